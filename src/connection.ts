import { Kernel, KernelMessage } from '@jupyterlab/services';

/** How long an idle kernel may take to answer kernel_info before its connection counts as stale. */
const PROBE_TIMEOUT_MS = 2000;

/** How long a connection JupyterLab is still opening (or reopening) may take to connect. */
const CONNECT_TIMEOUT_MS = 30000;

/**
 * Make sure this page gets the kernel's IOPub messages before a restore runs cells.
 *
 * When another client (or the REST API) restarts the kernel, JupyterLab keeps this page's
 * websocket, and the server keeps its ZMQ sockets, which reconnect to the new process on
 * their own. The shell channel can be back before the IOPub subscription: an execution then
 * gets its reply but never its idle status, and JupyterLab waits for it forever. A
 * kernel_info round trip through this connection finishes only when both arrive; if it does
 * not, reconnect, since the server serves a new websocket only once IOPub delivers
 * (jupyter_server's nudge). JupyterLab reconnects by itself after restarts it sees.
 *
 * A connection still being opened (a page opened just after a server restart, where an
 * automatic restore starts at once) is waited for first: JupyterLab refuses to send a
 * kernel_info request on a restarting connection that is not connected yet.
 *
 * Returns whether a reconnect was needed.
 */
export async function ensureLiveConnection(
  kernel: Kernel.IKernelConnection,
  timeoutMs: number = PROBE_TIMEOUT_MS,
  connectMs: number = CONNECT_TIMEOUT_MS
): Promise<boolean> {
  await connected(kernel, connectMs);
  const probe = kernel.sendShellMessage(
    KernelMessage.createMessage({
      msgType: 'kernel_info_request',
      channel: 'shell',
      session: kernel.clientId,
      username: kernel.username,
      content: {}
    }),
    true,
    true
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stale = await Promise.race([
    probe.done.then(
      () => false,
      () => false // disposed or failed: the kernel's own status says what happened
    ),
    new Promise<boolean>(resolve => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    })
  ]);
  clearTimeout(timer);
  if (!stale) {
    return false;
  }
  probe.dispose();
  await kernel.reconnect();
  return true;
}

/** Resolves once the connection is connected; rejects after `timeoutMs` if it is not. */
function connected(kernel: Kernel.IKernelConnection, timeoutMs: number): Promise<void> {
  if (kernel.connectionStatus === 'connected') {
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const onChange = (_: Kernel.IKernelConnection, status: Kernel.ConnectionStatus): void => {
      if (status === 'connected') {
        stop();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`the kernel connection is still ${kernel.connectionStatus}`));
    }, timeoutMs);
    const stop = (): void => {
      clearTimeout(timer);
      kernel.connectionStatusChanged.disconnect(onChange);
    };
    kernel.connectionStatusChanged.connect(onChange);
  });
}
