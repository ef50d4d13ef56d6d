import { NotebookPanel } from '@jupyterlab/notebook';
import { UUID } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from './api';
import { MetadataStamper } from './stamping';
import {
  ICheckpointAnswer,
  ILoadAnswer,
  ILoadStep,
  INotebookRecord,
  IReviveSettings,
  IRunRecord,
  METADATA_KEY
} from './tokens';

/** Automatic checkpoints may cost at most this part of the cell they follow. */
export const AUTO_BUDGET = 0.05;

/** The notebook's checkpoint identity, `metadata.revive.notebook`, if it has one. */
export function notebookIdentity(panel: NotebookPanel): string | null {
  const record = panel.context.model.getMetadata(METADATA_KEY) as
    | Partial<INotebookRecord>
    | undefined;
  return typeof record?.notebook === 'string' && record.notebook ? record.notebook : null;
}

/** The identity, created on the first checkpoint (a uuid; never a path or a name). */
function ensureIdentity(panel: NotebookPanel): string {
  const existing = notebookIdentity(panel);
  if (existing) {
    return existing;
  }
  const identity = UUID.uuid4();
  const record = (panel.context.model.getMetadata(METADATA_KEY) ?? {}) as Record<string, unknown>;
  panel.context.model.setMetadata(METADATA_KEY, { ...record, notebook: identity });
  return identity;
}

/** The user's per-notebook cap in bytes, or null for the server's. */
export function capBytes(settings: Pick<IReviveSettings, 'checkpointCapGB'>): number | null {
  return settings.checkpointCapGB > 0 ? Math.round(settings.checkpointCapGB * 1e9) : null;
}

/**
 * Tell the server which notebook a kernel holds the state of, so that the
 * kernel is checkpointed before a shutdown or restart (`notebook` null: not).
 */
export async function serveNotebook(
  kernelId: string,
  notebook: string | null,
  cap: number | null
): Promise<void> {
  await requestAPI<void>(`kernels/${kernelId}/notebook`, {
    method: 'PUT',
    body: JSON.stringify({ notebook, cap_bytes: cap })
  });
}

/** Checkpoint the kernel's variables (all, or `names`). */
export async function takeCheckpoint(
  panel: NotebookPanel,
  names?: string[],
  budgetSeconds?: number,
  cap?: number | null
): Promise<ICheckpointAnswer> {
  const kernelId = panel.sessionContext.session?.kernel?.id;
  if (!kernelId) {
    throw new Error('The notebook has no kernel.');
  }
  const notebook = ensureIdentity(panel);
  return requestAPI<ICheckpointAnswer>(`kernels/${kernelId}/checkpoint`, {
    method: 'POST',
    body: JSON.stringify({
      notebook,
      names: names ?? null,
      budget_s: budgetSeconds ?? null,
      cap_bytes: cap ?? null
    })
  });
}

/** Load one step of a plan into the notebook's kernel. */
export async function loadCheckpoint(
  panel: NotebookPanel,
  load: ILoadStep
): Promise<ILoadAnswer> {
  const kernelId = panel.sessionContext.session?.kernel?.id;
  const notebook = notebookIdentity(panel);
  if (!kernelId || !notebook) {
    throw new Error('The notebook has no kernel or no checkpoints.');
  }
  return requestAPI<ILoadAnswer>(`kernels/${kernelId}/load`, {
    method: 'POST',
    body: JSON.stringify({ notebook, checkpoint: load.checkpoint, names: load.names })
  });
}

/** "1.2 GB", "35 MB", "12 kB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** Whether a cell's run calls for an automatic checkpoint of what it changed. */
export function autoCheckpointNames(
  record: IRunRecord,
  settings: Pick<IReviveSettings, 'autoCheckpoint' | 'autoCheckpointSeconds'>
): string[] {
  if (!settings.autoCheckpoint || record.status !== 'ok') {
    return [];
  }
  if (record.ms < settings.autoCheckpointSeconds * 1000) {
    return [];
  }
  return [...new Set([...record.defined, ...(record.mutated ?? [])])];
}

/**
 * After a cell that ran for a while, checkpoint what it bound or changed, within
 * a budget of `AUTO_BUDGET` of the cell's time: this is what survives a crash.
 * One at a time; a run that finishes meanwhile waits for the next long cell.
 * Once the kernel holds state, it is also registered for checkpoints before a
 * shutdown or restart (`checkpointOnShutdown`).
 */
export class AutoCheckpointer implements IDisposable {
  constructor(
    private readonly _panel: NotebookPanel,
    stamper: MetadataStamper,
    private readonly _settings: () => IReviveSettings,
    private readonly _paused: () => boolean
  ) {
    stamper.stamped.connect(this._onStamped, this);
  }

  /** Each automatic checkpoint's answer, or its error. */
  get taken(): ISignal<this, ICheckpointAnswer | Error> {
    return this._taken;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private async _onStamped(_: MetadataStamper, record: IRunRecord): Promise<void> {
    void this._serve();
    const names = autoCheckpointNames(record, this._settings());
    if (!names.length || this._busy || this._paused()) {
      return;
    }
    this._busy = true;
    try {
      const answer = await takeCheckpoint(
        this._panel,
        names,
        (record.ms / 1000) * AUTO_BUDGET,
        capBytes(this._settings())
      );
      this._taken.emit(answer);
    } catch (reason) {
      console.warn('jupyter-revive: automatic checkpoint failed', reason);
      this._taken.emit(reason instanceof Error ? reason : new Error(String(reason)));
    } finally {
      this._busy = false;
    }
  }

  /** Register the kernel for shutdown checkpoints, or undo it, as the settings say. */
  private async _serve(): Promise<void> {
    const kernel = this._panel.sessionContext.session?.kernel?.id;
    const settings = this._settings();
    const cap = capBytes(settings);
    const wanted = settings.checkpointOnShutdown && kernel ? { kernel, cap } : null;
    const served = this._served;
    const same = wanted
      ? served?.kernel === wanted.kernel && served.cap === wanted.cap
      : served === null;
    if (same) {
      return;
    }
    this._served = wanted;
    const target = (wanted ?? served) as { kernel: string };
    try {
      await serveNotebook(target.kernel, wanted ? ensureIdentity(this._panel) : null, cap);
    } catch (reason) {
      this._served = null; // asked again after the next run
      console.warn('jupyter-revive: shutdown checkpoints not registered', reason);
    }
  }

  private _busy = false;
  /** The kernel and cap last registered, or null. */
  private _served: { kernel: string; cap: number | null } | null = null;
  private _isDisposed = false;
  private _taken = new Signal<this, ICheckpointAnswer | Error>(this);
}
