import { ISessionContext } from '@jupyterlab/apputils';
import { INotebookModel } from '@jupyterlab/notebook';
import { Kernel, ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from './api';
import { IKernelContext, INotebookRecord, METADATA_KEY, Verdict } from './tokens';

/** Context queries answered busy (503) are asked again this often, backing off from 0.5 s. */
const MAX_RETRIES = 6;

/** Compare what a notebook recorded with what its kernel holds. */
export function computeVerdict(
  record: Partial<INotebookRecord> | undefined,
  kernelContext: string | null
): Verdict {
  if (!record?.context || !record.history?.length) {
    return 'fresh';
  }
  if (kernelContext === null) {
    return 'unknown';
  }
  return record.context === kernelContext ? 'live' : 'stale';
}

/**
 * Keeps a notebook's verdict (live / fresh / stale) current: on open, when the
 * kernel changes or restarts, and after every stamped execution.
 */
export class ContextWatcher implements IDisposable {
  constructor(
    private readonly _sessionContext: ISessionContext,
    private readonly _model: () => INotebookModel | null
  ) {
    _sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    _sessionContext.statusChanged.connect(this._onStatusChanged, this);
    void _sessionContext.ready.then(() => {
      // Marks for benchmarks/bench_verdict.py: open → verdict.
      performance.mark('revive:ready');
      return this.refresh();
    });
  }

  get verdict(): Verdict {
    return this._verdict;
  }

  /** The live kernel's context and ledger, as last fetched. */
  get kernelContext(): IKernelContext | null {
    return this._kernelContext;
  }

  get verdictChanged(): ISignal<this, Verdict> {
    return this._verdictChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Ask the server for the kernel's context and recompute the verdict. */
  async refresh(): Promise<Verdict> {
    const kernel = this._sessionContext.session?.kernel;
    if (!kernel) {
      this._kernelContext = null;
      return this._update();
    }
    const ticket = ++this._ticket;
    try {
      const context = await requestAPI<IKernelContext>(
        `kernels/${encodeURIComponent(kernel.id)}/context`
      );
      if (ticket === this._ticket && !this._isDisposed) {
        this._kernelContext = context;
        this._retries = 0;
      }
    } catch (reason) {
      // Busy kernel or one without a tracker: keep what we knew, say unknown.
      if (!(reason instanceof ServerConnection.ResponseError)) {
        console.warn('jupyter-revive: context query failed', reason);
      }
      if (ticket === this._ticket) {
        this._kernelContext = null;
        const busy =
          reason instanceof ServerConnection.ResponseError && reason.response.status === 503;
        if (busy && this._retries < MAX_RETRIES) {
          // A busy (or still starting) kernel answers later: ask again, backing off.
          const delay = 500 * 2 ** this._retries++;
          setTimeout(() => {
            if (!this._isDisposed && ticket === this._ticket) {
              void this.refresh();
            }
          }, delay);
        }
      }
    }
    return this._update();
  }

  /** A stamped execution proves which context the kernel has now. */
  /** Also for the server's restart events; null: it could not read the context, so ask. */
  noteContext(context: string | null): void {
    if (context === null) {
      void this.refresh();
      return;
    }
    if (this._kernelContext?.context !== context) {
      this._kernelContext = { context, executions: [] };
    }
    this._update();
  }

  private _update(): Verdict {
    const model = this._model();
    const record = model?.getMetadata(METADATA_KEY) as
      | Partial<INotebookRecord>
      | undefined;
    const verdict = computeVerdict(
      record,
      this._kernelContext?.context ?? null
    );
    if (verdict !== 'unknown' && this._verdict === 'unknown') {
      performance.mark('revive:verdict');
    }
    if (verdict !== this._verdict && !this._isDisposed) {
      this._verdict = verdict;
      this._verdictChanged.emit(verdict);
    }
    return verdict;
  }

  private _onKernelChanged(): void {
    this._kernelContext = null;
    this._retries = 0;
    void this.refresh();
  }

  private _onStatusChanged(_: ISessionContext, status: Kernel.Status): void {
    // After a restart the tracker is new: ask again once the kernel settles.
    if (status === 'restarting' || status === 'autorestarting') {
      this._restarting = true;
    } else if (status === 'idle' && this._restarting) {
      this._restarting = false;
      void this.refresh();
    }
  }

  private _verdict: Verdict = 'unknown';
  private _kernelContext: IKernelContext | null = null;
  private _ticket = 0;
  private _retries = 0;
  private _restarting = false;
  private _isDisposed = false;
  private _verdictChanged = new Signal<this, Verdict>(this);
}
