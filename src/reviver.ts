import { NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';

import { MetadataStamper } from './stamping';
import { IRunRecord, Verdict } from './tokens';
import { ContextWatcher } from './verdict';

/**
 * Per-notebook state of jupyter-revive: stamps metadata and tracks the verdict.
 * The verdict is mirrored as `data-revive-verdict` on the panel node so that
 * styles and tests can see it.
 */
export class NotebookReviver implements IDisposable {
  constructor(readonly panel: NotebookPanel) {
    const model = () => panel.context.model ?? null;
    this.stamper = new MetadataStamper(panel.sessionContext, model);
    this.watcher = new ContextWatcher(panel.sessionContext, model);
    this.stamper.stamped.connect(this._onStamped, this);
    this.watcher.verdictChanged.connect(this._onVerdict, this);
    panel.disposed.connect(() => this.dispose());
  }

  readonly stamper: MetadataStamper;
  readonly watcher: ContextWatcher;

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stamper.dispose();
    this.watcher.dispose();
  }

  private _onStamped(_: MetadataStamper, record: IRunRecord): void {
    this.watcher.noteContext(record.context);
  }

  private _onVerdict(_: ContextWatcher, verdict: Verdict): void {
    this.panel.node.dataset.reviveVerdict = verdict;
    const context = this.watcher.kernelContext?.context;
    if (context) {
      this.panel.node.dataset.reviveContext = context;
    }
  }

  private _isDisposed = false;
}
