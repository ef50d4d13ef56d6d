import { Kernel } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import { describe, expect, it } from 'vitest';

import { ensureLiveConnection } from '../../src/connection';

/**
 * The two parts of a kernel connection the probe uses. The browser tests cover it against a
 * real server; here a probe that never finishes (an IOPub message lost) is made on purpose.
 */
class Connection {
  constructor(
    private readonly _answers: boolean,
    public connectionStatus: Kernel.ConnectionStatus = 'connected'
  ) {}

  readonly connectionStatusChanged = new Signal<this, Kernel.ConnectionStatus>(this);
  sent: string[] = [];
  disposed = 0;
  reconnects = 0;
  clientId = 'client';
  username = 'user';

  sendShellMessage(msg: { header: { msg_type: string } }) {
    if (this.connectionStatus !== 'connected') {
      // JupyterLab's own refusal for kernel_info on a connection still (re)starting
      throw new Error('Could not send message: status is not connected');
    }
    this.sent.push(msg.header.msg_type);
    const done = this._answers ? Promise.resolve({}) : new Promise(() => undefined);
    return { done, dispose: () => this.disposed++ };
  }

  async reconnect(): Promise<void> {
    this.reconnects++;
  }

  get kernel(): Kernel.IKernelConnection {
    return this as unknown as Kernel.IKernelConnection;
  }
}

describe('ensureLiveConnection', () => {
  it('keeps a connection whose kernel_info round trip finishes', async () => {
    const connection = new Connection(true);
    expect(await ensureLiveConnection(connection.kernel, 1000)).toBe(false);
    expect(connection.sent).toEqual(['kernel_info_request']);
    expect(connection.reconnects).toBe(0);
  });

  it('waits for a connection JupyterLab is still opening before it probes', async () => {
    const connection = new Connection(true, 'connecting');
    const checked = ensureLiveConnection(connection.kernel, 1000, 1000);
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(connection.sent).toEqual([]);
    connection.connectionStatus = 'connected';
    connection.connectionStatusChanged.emit('connected');
    expect(await checked).toBe(false);
    expect(connection.sent).toEqual(['kernel_info_request']);
  });

  it('says so when the connection never comes up', async () => {
    const connection = new Connection(true, 'connecting');
    await expect(ensureLiveConnection(connection.kernel, 1000, 20)).rejects.toThrow(
      'still connecting'
    );
    expect(connection.sent).toEqual([]);
  });

  it('drops the unanswered probe and reconnects when the round trip does not finish', async () => {
    const connection = new Connection(false);
    expect(await ensureLiveConnection(connection.kernel, 20)).toBe(true);
    expect(connection.disposed).toBe(1);
    expect(connection.reconnects).toBe(1);
  });
});
