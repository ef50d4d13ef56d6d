import { NotebookPanel } from '@jupyterlab/notebook';

import { requestAPI } from './api';
import { ILostRecord, INotebookRecord, IPlan, IPlanWarning, METADATA_KEY } from './tokens';

export interface IPlanOptions {
  names?: string[];
  /** Load checkpointed values whose code changed since (the user asked). */
  loadStale?: boolean;
  /** False: only re-run cells (after a checkpoint was refused). */
  useCheckpoints?: boolean;
}

/**
 * The notebook as the planner (and the graph) should read it: with the record
 * of the context that was lost, not the partial history a (cancelled) restore
 * has stamped since; the notebook's identity stays, it finds the checkpoints.
 */
export function planningNotebook(
  panel: NotebookPanel,
  lost: ILostRecord | null
): { metadata: Record<string, unknown> } {
  const notebook = panel.context.model.toJSON() as {
    metadata: Record<string, unknown>;
  };
  if (lost) {
    const record = (notebook.metadata[METADATA_KEY] ?? {}) as Partial<INotebookRecord>;
    const identity = record.notebook ? { notebook: record.notebook } : {};
    notebook.metadata = { ...notebook.metadata, [METADATA_KEY]: { ...lost, ...identity } };
  }
  return notebook;
}

/** Ask the server's planner how to rebuild the lost names of this notebook. */
export async function fetchPlan(
  panel: NotebookPanel,
  lost: ILostRecord | null,
  options: IPlanOptions = {}
): Promise<IPlan> {
  const notebook = planningNotebook(panel, lost);
  const kernelId = panel.sessionContext.session?.kernel?.id;
  return requestAPI<IPlan>('plan', {
    method: 'POST',
    body: JSON.stringify({
      notebook,
      names: options.names ?? null,
      kernel_id: kernelId ?? null,
      load_stale: options.loadStale ?? false,
      use_checkpoints: options.useCheckpoints ?? true
    })
  });
}

/** "0.3 s", "12 s", "4 min", "1 h 5 min": an estimate, so rounded. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) {
    return `${Math.max(0.1, Math.round(seconds * 10) / 10)} s`;
  }
  if (seconds < 90) {
    return `${Math.round(seconds)} s`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) {
    return `${minutes} min`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * What a restore will do and how long it should take:
 * "load df, model from a checkpoint (2 s), re-run 2 cells (1 s)".
 */
export function restoreSummary(plan: IPlan): string {
  const cells = distinctCells(plan);
  const rerun = cells ? `re-run ${cells} cell${cells === 1 ? '' : 's'}` : '';
  const load = plan.load;
  const total = plan.estimate_s?.restore;
  if (!load || !load.names.length) {
    return total === undefined ? rerun : `${rerun} (${formatDuration(total)})`;
  }
  const loadPart = `load ${summarizeNames(load.names)} from a checkpoint (${formatDuration(load.estimate_s)})`;
  if (!cells) {
    return loadPart;
  }
  const rest = total === undefined ? '' : ` (${formatDuration(Math.max(0, total - load.estimate_s))})`;
  return `${loadPart}, ${rerun}${rest}`;
}

/** "Re-run all (~10 min)". */
export function rerunAllLabel(plan: IPlan | null): string {
  const all = plan?.estimate_s?.rerun_all;
  return all === undefined ? 'Re-run all' : `Re-run all (~${formatDuration(all)})`;
}

/** Whether the plan has anything to do. */
export function hasWork(plan: IPlan): boolean {
  return plan.cells.length > 0 || (plan.load?.names.length ?? 0) > 0;
}

/** "df, model, predictions (+4)" */
const KIND_WORDS: Record<string, [string, string]> = {
  data: ['', ''],
  module: ['module', 'modules'],
  import: ['import', 'imports'],
  function: ['function', 'functions'],
  class: ['class', 'classes'],
  temporary: ['loop variable', 'loop variables']
};

/** Characters of names a one-line headline has room for. */
export const NAMES_BUDGET = 48;

/**
 * "predictions, model, cleaned_df (+1, 3 modules)": all names when they fit in
 * `budget` characters, else the data names that fit (the server orders names
 * data first, products first) and what kinds the rest are. Never leads with a
 * module, an import or a loop variable.
 */
export function summarizeNames(
  names: readonly string[],
  kinds: Readonly<Record<string, string>> = {},
  budget = NAMES_BUDGET
): string {
  const all = names.join(', ');
  if (all.length <= budget) {
    return all;
  }
  const shown: string[] = [];
  let length = 0;
  for (const name of names) {
    const add = (shown.length ? 2 : 0) + name.length;
    if (kinds[name] || (shown.length && length + add > budget)) {
      break;
    }
    shown.push(name);
    length += add;
  }
  const counts = new Map<string, number>();
  for (const name of names.slice(shown.length)) {
    const kind = kinds[name] in KIND_WORDS ? kinds[name] : 'data';
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const rest = [...counts].map(([kind, n]) =>
    kind === 'data' ? `${n}` : `${n} ${KIND_WORDS[kind][n === 1 ? 0 : 1]}`
  );
  return shown.length ? `${shown.join(', ')} (+${rest.join(', ')})` : rest.join(', ');
}

export function warningText(warning: IPlanWarning): string {
  return warning.message;
}

/** Distinct cells in a plan (a cell may run more than once). */
export function distinctCells(plan: IPlan): number {
  return new Set(plan.cells.map(c => c.id)).size;
}
