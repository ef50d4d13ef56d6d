import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';

import { RecoveryAction, ReviveBanner } from './banner';
import { AutoCheckpointer, capBytes, takeCheckpoint } from './checkpoint';
import { fetchPlan, hasWork, IPlanOptions } from './plan';
import { recoveryStep } from './recovery';
import { showRecoveryDialog } from './recoveryDialog';
import { RestoreRunner } from './restore';
import { MetadataStamper } from './stamping';
import {
  ICheckpointAnswer,
  ILoadAnswer,
  ILoadStep,
  ILostRecord,
  INotebookRecord,
  IPlan,
  IRestoreProgress,
  METADATA_KEY,
  IReviveSettings,
  IRunRecord,
  Verdict
} from './tokens';
import { ContextWatcher } from './verdict';

/**
 * Per-notebook state of jupyter-revive: stamps metadata, tracks the verdict and
 * drives recovery (banner on open, dialog on restart, restore with progress).
 * The verdict is mirrored as `data-revive-verdict` on the panel node so that
 * styles and tests can see it.
 */
export class NotebookReviver implements IDisposable {
  constructor(
    readonly panel: NotebookPanel,
    private readonly _settings: () => IReviveSettings,
    /** Resolves once the user's settings were read (or could not be). */
    private readonly _settingsLoaded: Promise<void>
  ) {
    const model = () => panel.context.model ?? null;
    this.stamper = new MetadataStamper(panel.sessionContext, model);
    this.watcher = new ContextWatcher(panel.sessionContext, model);
    this.runner = new RestoreRunner(panel);
    this.checkpointer = new AutoCheckpointer(
      panel,
      this.stamper,
      _settings,
      () => this._restoring
    );
    this.banner = new ReviveBanner();
    panel.contentHeader.addWidget(this.banner);
    this.stamper.stamped.connect(this._onStamped, this);
    this.watcher.verdictChanged.connect(this._onVerdict, this);
    this.banner.action.connect(this._onAction, this);
    this.runner.progress.connect(this._onProgress, this);
    this.runner.loaded.connect(this._onLoaded, this);
    panel.disposed.connect(() => this.dispose());
  }

  readonly stamper: MetadataStamper;
  readonly watcher: ContextWatcher;
  readonly runner: RestoreRunner;
  readonly checkpointer: AutoCheckpointer;
  readonly banner: ReviveBanner;

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The record of the context that was lost, until restored or dismissed. */
  get lost(): ILostRecord | null {
    return this._lost;
  }

  /** The plan last fetched for this notebook, if any. */
  get plan(): IPlan | null {
    return this._plan;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stamper.dispose();
    this.checkpointer.dispose();
    this.watcher.dispose();
    this.banner.dispose();
  }

  /** Checkpoint all of the kernel's variables (command "Checkpoint Kernel State"). */
  checkpoint(): Promise<ICheckpointAnswer> {
    return takeCheckpoint(this.panel, undefined, undefined, capBytes(this._settings()));
  }

  /** Plan (again) and run the plan; resolves with the final progress. */
  async restore(options: IPlanOptions = {}): Promise<IRestoreProgress | null> {
    if (this.runner.running) {
      return null;
    }
    const plan = await this.refreshPlan(options);
    if (!plan || !hasWork(plan)) {
      this.banner.clear();
      return null;
    }
    this._persistLost();
    let result = await this.runPlan(plan);
    if (result.state === 'failed' && result.refused?.length) {
      // A checkpoint that does not verify is never loaded: recompute instead.
      const message = result.message ?? 'A checkpoint was refused.';
      const again = await this.refreshPlan({ ...options, useCheckpoints: false });
      if (!again) {
        return result;
      }
      result = hasWork(again) ? await this.runPlan(again) : { ...result, state: 'done' };
      if (result.state === 'done') {
        this.banner.clear();
        this.banner.showMessage(`${message} Those variables were recomputed instead.`);
      }
    }
    if (result.state === 'done') {
      this._plan = null;
      this._setLost(null);
    } else if (result.state === 'cancelled' || (result.state === 'failed' && !result.kernelDied)) {
      // The cells that ran are live now: Resume offers what is left, not the old plan.
      const left = await this.refreshPlan(options);
      if (left && hasWork(left)) {
        this.banner.replacePlan(left);
      }
    }
    return result;
  }

  /** Run a given plan (e.g. for a prompt cell's missing names) with banner progress. */
  async runPlan(plan: IPlan): Promise<IRestoreProgress> {
    if (this.runner.running) {
      return { state: 'failed', done: 0, total: plan.cells.length, message: 'A restore is already running.' };
    }
    this._restoring = true;
    try {
      const result = await this.runner.run(plan);
      if (result.state === 'done') {
        this.banner.clear();
      }
      return result;
    } finally {
      this._restoring = false;
    }
  }

  async rerunAll(): Promise<void> {
    this.banner.clear();
    this._setLost(null);
    await NotebookActions.runAll(this.panel.content, this.panel.sessionContext);
  }

  /** Ask the planner; shows its error in the banner rather than throwing. */
  async refreshPlan(options: IPlanOptions = {}): Promise<IPlan | null> {
    try {
      this._plan = await fetchPlan(this.panel, this._lost, options);
    } catch (reason) {
      this._plan = null;
      this.banner.showMessage(`Could not plan a restore: ${String(reason)}`);
    }
    return this._plan;
  }

  private async _onVerdict(_: ContextWatcher, verdict: Verdict): Promise<void> {
    this.panel.node.dataset.reviveVerdict = verdict;
    const context = this.watcher.kernelContext?.context;
    if (context) {
      this.panel.node.dataset.reviveContext = context;
    }
    const previous = this._lastVerdict;
    const wasLive = this._lastKnownVerdict === 'live';
    this._lastVerdict = verdict;
    if (verdict !== 'unknown') {
      this._lastKnownVerdict = verdict;
    }
    if (verdict === 'live' && previous === 'unknown' && this._lost && !this._restoring) {
      // Opened on a live kernel with a restore that never finished (cancelled, failed).
      const plan = await this.refreshPlan();
      if (plan && plan.names.length > 0 && hasWork(plan)) {
        this.banner.showPlan(plan, 'A restore of lost kernel state did not finish');
      } else {
        this._setLost(null);
      }
      return;
    }
    if (verdict !== 'stale') {
      if (!this._restoring && verdict === 'live') {
        this.banner.clear();
      }
      return;
    }
    // Live earlier in this session → the kernel restarted under us (a restart
    // may pass through 'unknown' while the kernel is busy or shutting down).
    const onRestart = wasLive;
    // Keep the first lost record until it is restored or dismissed: a kernel
    // that dies mid-restore must not make the partial restore the target.
    if (!this._lost) {
      const record = this._record();
      if (record?.context && Array.isArray(record.history)) {
        this._lostMemory = {
          context: record.context,
          history: record.history,
          ...(record.truncated ? { truncated: true } : {})
        };
      }
    }
    await this._settingsLoaded;
    const mode = onRestart ? this._settings().onRestart : this._settings().onOpen;
    if (mode === 'never') {
      return;
    }
    const plan = await this.refreshPlan();
    if (!plan) {
      return;
    }
    const step = recoveryStep({
      mode,
      onRestart,
      lostNames: plan.names.length,
      interrupted: this._interrupted !== null
    });
    switch (step) {
      case 'nothing':
        return;
      case 'resume': {
        const message = this._interrupted ?? '';
        this._interrupted = null;
        this.banner.showPlan(plan);
        this.banner.showMessage(message);
        return;
      }
      case 'restore':
        this.banner.showPlan(plan);
        await this.restore();
        return;
      case 'banner':
        this.banner.showPlan(plan, 'Kernel state was lost');
        return;
      case 'dialog': {
        this.banner.showPlan(plan, 'The kernel restarted and lost its state');
        const choice = await showRecoveryDialog(plan);
        if (choice === 'restore') {
          await this.restore();
        } else if (choice === 'rerun') {
          await this.rerunAll();
        }
        return;
      }
    }
  }

  private _onAction(_: ReviveBanner, action: RecoveryAction): void {
    switch (action) {
      case 'restore':
        void this.restore();
        break;
      case 'load-stale':
        void this.restore({ loadStale: true });
        break;
      case 'rerun':
        void this.rerunAll();
        break;
      case 'dismiss':
        this._setLost(null);
        this.banner.clear();
        break;
      case 'cancel':
        void this.runner.cancel();
        break;
    }
  }

  private _onProgress(_: RestoreRunner, progress: IRestoreProgress): void {
    if (progress.state === 'done') {
      return;
    }
    if (progress.kernelDied) {
      this._interrupted = `Restore stopped: ${progress.message ?? 'the kernel died.'}`;
    }
    this.banner.showProgress(progress);
  }

  private _onLoaded(
    _: RestoreRunner,
    loaded: { step: ILoadStep; answer: ILoadAnswer }
  ): void {
    // The kernel now holds what the lost history's first `position` runs made.
    const lost = this._lost;
    const context = loaded.answer.context ?? this.watcher.kernelContext?.context;
    if (lost && context) {
      this.stamper.adoptHistory(
        context,
        lost.history.slice(0, loaded.step.position),
        !!lost.truncated
      );
    }
  }

  private _onStamped(_: MetadataStamper, record: IRunRecord): void {
    this.watcher.noteContext(record.context);
  }

  private _record(): Partial<INotebookRecord> | undefined {
    return this.panel.context.model.getMetadata(METADATA_KEY) as
      | Partial<INotebookRecord>
      | undefined;
  }

  /**
   * The record of the context that was lost, until restored or dismissed: in
   * memory while only shown (opening a notebook must not dirty it), and in
   * `metadata.revive.lost` once a restore starts, since its runs replace the
   * notebook's history and a cancelled or failed restore must stay resumable
   * after a save and reload.
   */
  private get _lost(): ILostRecord | null {
    const lost = this._record()?.lost;
    const saved =
      lost && typeof lost.context === 'string' && Array.isArray(lost.history) ? lost : null;
    return saved ?? this._lostMemory;
  }

  private _persistLost(): void {
    const record = this._record();
    if (this._lostMemory && record && !record.lost) {
      this.panel.context.model.setMetadata(METADATA_KEY, { ...record, lost: this._lostMemory });
    }
  }

  private _setLost(lost: ILostRecord | null): void {
    this._lostMemory = lost;
    const record = this._record();
    if (!lost && record?.lost) {
      const rest = { ...record };
      delete rest.lost;
      this.panel.context.model.setMetadata(METADATA_KEY, rest);
    }
  }

  private _lostMemory: ILostRecord | null = null;

  private _plan: IPlan | null = null;
  private _lastVerdict: Verdict = 'unknown';
  private _lastKnownVerdict: Verdict = 'unknown';
  /** Set when the kernel died during a restore, until the next verdict shows it. */
  private _interrupted: string | null = null;
  private _restoring = false;
  private _isDisposed = false;
}
