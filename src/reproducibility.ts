import { Notification } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';

import { requestAPI } from './api';
import { IFinding, IReviveSettings } from './tokens';

/** CSS class of cells a finding names, after "Show". */
export const FINDING_CLASS = 'jp-revive-mod-finding';

/** `POST check`: why the saved state could not come from running top to bottom. */
export async function checkNotebook(panel: NotebookPanel): Promise<IFinding[]> {
  const notebook = panel.context.model.toJSON();
  const answer = await requestAPI<{ findings: IFinding[] }>('check', {
    method: 'POST',
    body: JSON.stringify({ notebook })
  });
  return answer.findings;
}

/** "Cell 3 used z, made by cell 5 below it" (+ how many more). */
export function findingsSummary(findings: readonly IFinding[]): string {
  const first = findings[0];
  const where = first.cell === null ? 'A deleted cell' : `Cell ${first.cell + 1}`;
  const more = findings.length > 1 ? ` (+${findings.length - 1} more)` : '';
  return `This notebook may not reproduce top to bottom: ${where} ${first.message}${more}.`;
}

/**
 * After each save, a quiet notice when the saved state could not come from
 * running the notebook top to bottom (the same findings as `jupyter revive
 * check`), with "Show" to mark and scroll to those cells. Only when the
 * findings changed since the last notice: saving again is not nagged.
 */
export class SaveChecker implements IDisposable {
  constructor(
    private readonly _panel: NotebookPanel,
    private readonly _settings: () => IReviveSettings,
    /** Told what "Show" shows (the Kernel State view marks them too), and [] once cleared. */
    private readonly _onShow: (findings: readonly IFinding[]) => void = () => undefined
  ) {
    _panel.context.saveState.connect(this._onSaveState, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._panel.context.saveState.disconnect(this._onSaveState, this);
  }

  /** Mark the cells the findings name and scroll to the first. */
  show(findings: readonly IFinding[]): void {
    this._onShow(findings);
    const ids = new Set(findings.map(f => f.id));
    const widgets = this._panel.content.widgets;
    widgets.forEach(cell => cell.toggleClass(FINDING_CLASS, ids.has(cell.model.id)));
    const index = widgets.findIndex(cell => ids.has(cell.model.id));
    if (index >= 0) {
      this._panel.content.activeCellIndex = index;
      void this._panel.content.scrollToItem(index);
    }
  }

  // (sender, DocumentRegistry.SaveState): typed loosely to need no docregistry import
  private async _onSaveState(_: unknown, state: string): Promise<void> {
    if (state !== 'completed' || !this._settings().checkOnSave) {
      return;
    }
    let findings: IFinding[];
    try {
      findings = await checkNotebook(this._panel);
    } catch (reason) {
      console.warn('jupyter-revive: reproducibility check failed', reason);
      return;
    }
    if (this._isDisposed) {
      return;
    }
    // How many findings the last check had: for styles and tests.
    this._panel.node.dataset.reviveFindings = String(findings.length);
    const key = JSON.stringify(findings);
    if (key === this._lastKey) {
      return;
    }
    this._lastKey = key;
    if (!findings.length) {
      this._panel.content.widgets.forEach(cell => cell.removeClass(FINDING_CLASS));
      this._onShow([]);
      return;
    }
    Notification.warning(findingsSummary(findings), {
      autoClose: 10_000,
      actions: [{ label: 'Show', callback: () => this.show(findings) }]
    });
  }

  private _isDisposed = false;
  private _lastKey = '[]';
}
