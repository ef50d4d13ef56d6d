import { Kernel } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { ensureLiveConnection } from '../../src/connection';

/**
 * The two parts of a kernel connection the probe uses. The browser tests cover it against a
 * real server; here a probe that never finishes (an IOPub message lost) is made on purpose.
 */
class Connection {
  constructor(private readonly _answers: boolean) {}

  sent: string[] = [];
  disposed = 0;
  reconnects = 0;
  clientId = 'client';
  username = 'user';

  sendShellMessage(msg: { header: { msg_type: string } }) {
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

  it('drops the unanswered probe and reconnects when the round trip does not finish', async () => {
    const connection = new Connection(false);
    expect(await ensureLiveConnection(connection.kernel, 20)).toBe(true);
    expect(connection.disposed).toBe(1);
    expect(connection.reconnects).toBe(1);
  });
});
