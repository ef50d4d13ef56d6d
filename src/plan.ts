import { NotebookPanel } from '@jupyterlab/notebook';

import { requestAPI } from './api';
import { ILostRecord, IPlan, IPlanWarning, METADATA_KEY } from './tokens';

/** Ask the server's planner which cells rebuild the lost names of this notebook. */
export async function fetchPlan(
  panel: NotebookPanel,
  lost: ILostRecord | null,
  names?: string[]
): Promise<IPlan> {
  const notebook = panel.context.model.toJSON() as {
    metadata: Record<string, unknown>;
  };
  // Plan against the record of the context that was lost, not against the
  // partial history a (cancelled) restore has stamped since.
  if (lost) {
    notebook.metadata = { ...notebook.metadata, [METADATA_KEY]: lost };
  }
  const kernelId = panel.sessionContext.session?.kernel?.id;
  return requestAPI<IPlan>('plan', {
    method: 'POST',
    body: JSON.stringify({
      notebook,
      names: names ?? null,
      kernel_id: kernelId ?? null
    })
  });
}

/** "df, model, predictions (+4)" */
export function summarizeNames(names: readonly string[], shown = 3): string {
  const head = names.slice(0, shown).join(', ');
  const rest = names.length - shown;
  return rest > 0 ? `${head} (+${rest})` : head;
}

export function warningText(warning: IPlanWarning): string {
  return warning.message;
}

/** Distinct cells in a plan (a cell may run more than once). */
export function distinctCells(plan: IPlan): number {
  return new Set(plan.cells.map(c => c.id)).size;
}
