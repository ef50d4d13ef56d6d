import { ISessionContext } from '@jupyterlab/apputils';
import { INotebookModel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ICellRecord,
  INotebookRecord,
  IRunRecord,
  METADATA_KEY
} from './tokens';

/** Run-record keys every record carries, copied into a cell's metadata. */
const RECORD_KEYS = ['context', 'seq', 'code', 'status', 'ms', 'defined', 'deleted'] as const;

/**
 * Run-record keys copied only when the tracker sent them: it leaves out what is
 * empty (and older trackers observed none of them).
 */
const OBSERVED_KEYS = ['mutated', 'unchanged', 'files', 'env'] as const;

/**
 * A cell's `metadata.revive` after a run: the run's record replaces the last
 * run's whole, so an observed key the record left out does not survive from an
 * earlier run; keys other parts own (prompt-cell provenance) stay.
 */
export function runMetadata(
  existing: Record<string, unknown> | undefined,
  record: IRunRecord
): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...(existing ?? {}) };
  for (const key of [...RECORD_KEYS, ...OBSERVED_KEYS]) {
    delete kept[key];
  }
  const cellRecord: ICellRecord = {
    context: record.context,
    seq: record.seq,
    code: record.code,
    status: record.status,
    ms: record.ms,
    defined: record.defined,
    deleted: record.deleted
  };
  for (const key of OBSERVED_KEYS) {
    if (record[key] !== undefined && record[key] !== null) {
      Object.assign(cellRecord, { [key]: record[key] });
    }
  }
  return { ...kept, ...cellRecord };
}

/** Executions kept in `metadata.revive.history`; older ones are dropped first. */
export const MAX_HISTORY = 5000;

/**
 * Writes the kernel tracker's run records into nbformat metadata.
 *
 * The tracker attaches each execution's record to its execute_reply
 * (`metadata.revive`), so we read replies off the kernel connection instead of
 * asking the server after every cell. Only replies to this connection's own
 * requests reach us, so another notebook on the same kernel never stamps here.
 */
export class MetadataStamper implements IDisposable {
  constructor(
    sessionContext: ISessionContext,
    private readonly _model: () => INotebookModel | null
  ) {
    sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    this._connect(sessionContext.session?.kernel ?? null);
  }

  /** Emits each record after it was written to the notebook. */
  get stamped(): ISignal<this, IRunRecord> {
    return this._stamped;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._connect(null);
    Signal.clearData(this);
  }

  /** Apply one record to the notebook model; exported for reuse by restore. */
  stamp(record: IRunRecord): boolean {
    const model = this._model();
    if (!model || !record.cell || !record.context) {
      return false;
    }
    let cell = null;
    for (let i = 0; i < model.cells.length; i++) {
      if (model.cells.get(i).id === record.cell) {
        cell = model.cells.get(i);
        break;
      }
    }
    if (!cell) {
      return false;
    }
    const existing = cell.getMetadata(METADATA_KEY) as Record<string, unknown> | undefined;
    cell.setMetadata(METADATA_KEY, runMetadata(existing, record));

    const previous = model.getMetadata(METADATA_KEY) as
      | Partial<INotebookRecord>
      | undefined;
    const sameContext =
      previous?.context === record.context && Array.isArray(previous.history);
    const history: [string, string][] = sameContext
      ? [...(previous!.history as [string, string][])]
      : [];
    history.push([record.cell, record.code]);
    this._writeHistory(record.context, history, sameContext && !!previous?.truncated);
    this._stamped.emit(record);
    return true;
  }

  /**
   * After a checkpoint load into kernel process `context`, the kernel holds what
   * the lost history's first runs computed (`prefix`): that becomes this
   * context's history. The cells re-run before the load replayed runs of that
   * prefix, so they are not listed again (a replay would repeat them).
   */
  adoptHistory(context: string, prefix: [string, string][], truncated = false): void {
    this._writeHistory(context, [...prefix], truncated);
  }

  private _writeHistory(
    context: string,
    history: [string, string][],
    truncated: boolean
  ): void {
    const model = this._model();
    if (!model) {
      return;
    }
    const previous = model.getMetadata(METADATA_KEY) as
      | Partial<INotebookRecord>
      | undefined;
    const next: INotebookRecord = { context, history };
    if (history.length > MAX_HISTORY) {
      next.history = history.slice(history.length - MAX_HISTORY);
      next.truncated = true;
    } else if (truncated) {
      next.truncated = true;
    }
    if (previous?.lost) {
      next.lost = previous.lost; // owned by the reviver until restored or dismissed
    }
    if (previous?.notebook) {
      next.notebook = previous.notebook; // the checkpoints' key, owned by checkpoint.ts
    }
    model.setMetadata(METADATA_KEY, next);
  }

  private _onKernelChanged(
    _: ISessionContext,
    change: { newValue: Kernel.IKernelConnection | null }
  ): void {
    this._connect(change.newValue);
  }

  private _connect(kernel: Kernel.IKernelConnection | null): void {
    this._kernel?.anyMessage.disconnect(this._onMessage, this);
    this._kernel = kernel;
    kernel?.anyMessage.connect(this._onMessage, this);
  }

  private _onMessage(
    _: Kernel.IKernelConnection,
    args: Kernel.IAnyMessageArgs
  ): void {
    if (args.direction !== 'recv') {
      return;
    }
    const msg = args.msg as KernelMessage.IMessage;
    if (msg.header.msg_type !== 'execute_reply') {
      return;
    }
    const record = (msg.metadata as Record<string, unknown> | undefined)?.[
      METADATA_KEY
    ] as IRunRecord | undefined;
    if (record && typeof record === 'object') {
      this.stamp(record);
    }
  }

  private _kernel: Kernel.IKernelConnection | null = null;
  private _isDisposed = false;
  private _stamped = new Signal<this, IRunRecord>(this);
}
