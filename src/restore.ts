import { ISessionContext } from '@jupyterlab/apputils';
import { Cell, CodeCell } from '@jupyterlab/cells';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import { loadCheckpoint } from './checkpoint';
import { ensureLiveConnection } from './connection';
import {
  ICellRecord,
  ILoadAnswer,
  ILoadStep,
  IPlan,
  IRestoreProgress,
  METADATA_KEY
} from './tokens';

/**
 * Runs a restore plan through JupyterLab's normal execution path
 * (`NotebookActions.runCells`), one planned run at a time, so outputs, execution
 * counts and metadata stamps update as if the user ran the cells; and loads
 * the plan's checkpoints at their places between the cells.
 */
export class RestoreRunner {
  constructor(private readonly _panel: NotebookPanel) {}

  get progress(): ISignal<this, IRestoreProgress> {
    return this._progress;
  }

  /** Each checkpoint load that succeeded, with the kernel's answer. */
  get loaded(): ISignal<this, { step: ILoadStep; answer: ILoadAnswer }> {
    return this._loaded;
  }

  get running(): boolean {
    return this._running;
  }

  /** Stop after interrupting the cell that runs now. */
  async cancel(): Promise<void> {
    if (!this._running) {
      return;
    }
    this._cancelled = true;
    await this._panel.sessionContext.session?.kernel?.interrupt();
  }

  async run(plan: IPlan): Promise<IRestoreProgress> {
    if (this._running) {
      throw new Error('A restore is already running for this notebook.');
    }
    this._running = true;
    this._cancelled = false;
    const total = plan.cells.length;
    // Errors a cell had in its original run are expected again; read them
    // before the first run restamps the cells.
    const erroredBefore = new Set<string>();
    for (const cell of this._panel.content.widgets) {
      const record = cell.model.getMetadata(METADATA_KEY) as
        | Partial<ICellRecord>
        | undefined;
      if (record?.status === 'error') {
        erroredBefore.add(cell.model.id);
      }
    }
    let result: IRestoreProgress = { state: 'done', done: total, total };
    const loads = [...(plan.load?.steps ?? [])].sort((a, b) => a.at - b.at);
    try {
      const kernel = this._panel.sessionContext.session?.kernel;
      if (kernel) {
        try {
          if (await ensureLiveConnection(kernel)) {
            console.info('jupyter-revive: the kernel connection missed IOPub; reconnected');
          }
        } catch (reason) {
          result = this._emit({
            state: 'failed',
            done: 0,
            total,
            message: `Could not reach the kernel: ${String(reason)}`
          });
          return result;
        }
      }
      for (let i = 0; i <= total; i++) {
        while (loads.length && loads[0].at <= i) {
          const failed = await this._load(loads.shift()!, i, total);
          if (failed) {
            return failed;
          }
        }
        if (i === total) {
          break;
        }
        const step = plan.cells[i];
        const cell = this._findCell(step.id);
        if (!cell) {
          result = this._emit({
            state: 'failed',
            done: i,
            total,
            message: `Cell ${step.id} was deleted; the plan is out of date.`
          });
          return result;
        }
        const index = this._panel.content.widgets.indexOf(cell);
        this._emit({ state: 'running', done: i, total, index });
        let { ok, died } = await this._runOne(cell);
        if (!ok && !died && !this._cancelled && !hasErrorOutput(cell)) {
          // No error of its own: ipykernel aborted it in the short window after a previous
          // cell's (expected) error. Run it once more.
          await new Promise(resolve => setTimeout(resolve, 200));
          ({ ok, died } = await this._runOne(cell));
        }
        if (this._cancelled) {
          result = this._emit({ state: 'cancelled', done: i, total, index });
          return result;
        }
        if (died) {
          result = this._emit({
            state: 'failed',
            done: i,
            total,
            index,
            kernelDied: true,
            message:
              `The kernel died while cell ${index + 1} ran, and its state is gone again. ` +
              'Resume restores it once the kernel is back.'
          });
          return result;
        }
        if (!ok && !erroredBefore.has(step.id)) {
          result = this._emit({
            state: 'failed',
            done: i,
            total,
            index,
            message: `Cell ${index + 1} failed: ${errorSummary(cell)}`
          });
          return result;
        }
      }
      this._emit(result);
      return result;
    } finally {
      this._running = false;
    }
  }

  /** Load one step; a progress to stop with when it failed or was refused. */
  private async _load(
    step: ILoadStep,
    done: number,
    total: number
  ): Promise<IRestoreProgress | null> {
    this._emit({ state: 'loading', done, total, names: step.names });
    let answer: ILoadAnswer;
    try {
      answer = await loadCheckpoint(this._panel, step);
    } catch (reason) {
      return this._emit({
        state: 'failed',
        done,
        total,
        refused: step.names,
        message: `The checkpoint could not be loaded: ${String(reason)}`
      });
    }
    if (answer.refused.length) {
      const first = answer.refused[0];
      return this._emit({
        state: 'failed',
        done,
        total,
        refused: answer.refused.map(r => r.name),
        message: `The checkpoint of ${first.name} was refused: ${first.reason}`
      });
    }
    this._loaded.emit({ step, answer });
    return null;
  }

  /** Run one cell; `died` says whether the kernel died or restarted meanwhile. */
  private async _runOne(cell: Cell): Promise<{ ok: boolean; died: boolean }> {
    const sessionContext: ISessionContext = this._panel.sessionContext;
    let died = false;
    const onStatus = (_: ISessionContext, status: string) => {
      if (status === 'dead' || status === 'restarting' || status === 'autorestarting') {
        died = true;
      }
    };
    sessionContext.statusChanged.connect(onStatus);
    try {
      const ok = await NotebookActions.runCells(this._panel.content, [cell], sessionContext);
      if (!ok && !died) {
        // The restart notice can trail the failed reply by a moment.
        await new Promise(resolve => setTimeout(resolve, 1000));
      }
      return { ok, died };
    } finally {
      sessionContext.statusChanged.disconnect(onStatus);
    }
  }

  private _findCell(id: string): Cell | undefined {
    return this._panel.content.widgets.find(c => c.model.id === id);
  }

  private _emit(progress: IRestoreProgress): IRestoreProgress {
    this._progress.emit(progress);
    return progress;
  }

  private _running = false;
  private _cancelled = false;
  private _progress = new Signal<this, IRestoreProgress>(this);
  private _loaded = new Signal<this, { step: ILoadStep; answer: ILoadAnswer }>(this);
}

function hasErrorOutput(cell: Cell): boolean {
  if (!(cell instanceof CodeCell)) {
    return false;
  }
  const outputs = cell.model.outputs;
  for (let i = 0; i < outputs.length; i++) {
    if (outputs.get(i).type === 'error') {
      return true;
    }
  }
  return false;
}

/** "NameError: name 'x' is not defined", from the cell's error output. */
function errorSummary(cell: Cell): string {
  if (!(cell instanceof CodeCell)) {
    return 'error';
  }
  const outputs = cell.model.outputs;
  for (let i = outputs.length - 1; i >= 0; i--) {
    const output = outputs.get(i).toJSON();
    if (output.output_type === 'error') {
      return `${String(output.ename)}: ${String(output.evalue)}`;
    }
  }
  return 'error';
}
