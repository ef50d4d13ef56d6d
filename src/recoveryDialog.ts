import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  distinctCells,
  formatDuration,
  rerunAllLabel,
  restoreSummary,
  summarizeNames
} from './plan';
import { IPlan } from './tokens';

export type RecoveryChoice = 'restore' | 'rerun' | 'dismiss';

/** "Kernel restarted — restore df, model, …?" with Restore / Re-run all / Not now. */
export async function showRecoveryDialog(plan: IPlan): Promise<RecoveryChoice> {
  const body = new Widget();
  body.addClass('jp-revive-RecoveryDialog');
  const cells = distinctCells(plan);
  const text = document.createElement('p');
  const runs = plan.cells.length;
  const extra = runs > cells ? ` (${runs} runs: some ran more than once)` : '';
  text.textContent = plan.load?.names.length
    ? `The kernel restarted and lost ${summarizeNames(plan.names, plan.kinds, 80)}. ` +
      `Restoring will ${restoreSummary(plan)}.`
    : `The kernel restarted and lost ${summarizeNames(plan.names, plan.kinds, 80)}. ` +
      `Restoring re-runs ${cells} cell${cells === 1 ? '' : 's'}${extra} in their original order` +
      (plan.estimate_s ? ` (~${formatDuration(plan.estimate_s.restore)}).` : '.');
  body.node.appendChild(text);
  if (plan.warnings.length) {
    const warn = document.createElement('p');
    warn.className = 'jp-revive-RecoveryDialog-warnings';
    warn.textContent = `${plan.warnings.length} warning(s): see "Details" in the banner.`;
    body.node.appendChild(warn);
  }
  const result = await showDialog<unknown>({
    title: `Kernel restarted — restore ${summarizeNames(plan.names, plan.kinds)}?`,
    body,
    buttons: [
      Dialog.cancelButton({ label: 'Not now' }),
      Dialog.createButton({ label: rerunAllLabel(plan), displayType: 'default' }),
      Dialog.okButton({ label: 'Restore' })
    ],
    defaultButton: 2
  });
  if (!result.button.accept) {
    return 'dismiss';
  }
  return result.button.label === 'Restore' ? 'restore' : 'rerun';
}
