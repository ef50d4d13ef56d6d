import { Widget } from '@lumino/widgets';
import { ISignal, Signal } from '@lumino/signaling';

import {
  distinctCells,
  formatDuration,
  hasWork,
  rerunAllLabel,
  restoreSummary,
  summarizeNames,
  warningText
} from './plan';
import { INameOutcome, IPlan, IRestoreProgress } from './tokens';

/** What the user chose in the banner or the recovery dialog. */
export type RecoveryAction =
  | 'restore'
  | 'load-stale'
  | 'rerun'
  | 'dismiss'
  | 'cancel'
  | 'details';

/**
 * The stale-kernel banner, placed in the notebook panel's content header:
 * which names are gone, Restore (n cells) / Re-run all / Dismiss, a details
 * list of planned cells and warnings, and restore progress with Cancel.
 */
export class ReviveBanner extends Widget {
  constructor() {
    super();
    this.addClass('jp-revive-Banner');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Lost kernel state');
    this.hide();
  }

  get action(): ISignal<this, RecoveryAction> {
    return this._action;
  }

  /** Show what was lost and what the plan would run. */
  showPlan(plan: IPlan, headline = 'Kernel state was lost'): void {
    performance.mark('revive:banner');
    this._plan = plan;
    this._progress = null;
    this._error = null;
    this._headline = headline;
    this._render();
    this.show();
  }

  showProgress(progress: IRestoreProgress): void {
    this._progress = progress;
    if (progress.state === 'failed' || progress.state === 'cancelled') {
      this._error =
        progress.state === 'cancelled'
          ? `Restore cancelled after ${progress.done} of ${progress.total} cells.`
          : `Restore stopped: ${progress.message ?? 'a cell failed'}`;
      this._progress = null;
    }
    this._render();
    this.show();
  }

  /** A new plan for what is left, keeping the headline and any message shown. */
  replacePlan(plan: IPlan): void {
    this._plan = plan;
    this._render();
  }

  showMessage(message: string): void {
    this._error = message;
    this._render();
    this.show();
  }

  clear(): void {
    this._plan = null;
    this._progress = null;
    this._error = null;
    this._expanded = false;
    this.node.textContent = '';
    this.hide();
  }

  private _render(): void {
    const node = this.node;
    node.textContent = '';
    const plan = this._plan;
    const main = el('div', 'jp-revive-Banner-main');
    const text = el('div', 'jp-revive-Banner-text');
    main.appendChild(text);
    node.appendChild(main);

    const p = this._progress;
    if (p && (p.state === 'running' || p.state === 'loading')) {
      node.dataset.state = 'restoring';
      const where = p.index !== undefined ? ` (cell ${p.index + 1})` : '';
      text.textContent =
        p.state === 'loading'
          ? `Restoring kernel state: loading ${summarizeNames(p.names ?? [])} from a checkpoint…`
          : `Restoring kernel state: ${p.done + 1}/${p.total}${where}…`;
      const bar = el('progress', 'jp-revive-Banner-progress') as HTMLProgressElement;
      bar.max = p.total;
      bar.value = p.done;
      main.appendChild(bar);
      main.appendChild(this._button('Cancel', 'cancel', false));
      this._fitToContent();
      return;
    }

    node.dataset.state = this._error ? 'error' : 'stale';
    if (plan) {
      const cells = distinctCells(plan);
      // The planner lists names in pipeline order, imports last.
      const lost = summarizeNames(plan.names, plan.kinds);
      text.textContent = plan.load?.names.length
        ? `${this._headline}: ${lost}. Restore: ${restoreSummary(plan)}.`
        : `${this._headline}: ${lost} came from ${cells} cell${cells === 1 ? '' : 's'}.` +
          (plan.estimate_s && cells
            ? ` Re-running ${cells === 1 ? 'it' : 'them'} takes ~${formatDuration(plan.estimate_s.restore)}.`
            : '');
      if (plan.stale?.names.length) {
        const stale = el('div', 'jp-revive-Banner-stale');
        stale.textContent =
          `A checkpoint holds ${summarizeNames(plan.stale.names)}, but the code they came ` +
          'from changed since: they are recomputed unless you load them anyway.';
        text.appendChild(stale);
      }
    } else {
      text.textContent = this._headline;
    }
    if (this._error) {
      const err = el('div', 'jp-revive-Banner-error');
      err.textContent = this._error;
      text.appendChild(err);
    }
    const buttons = el('div', 'jp-revive-Banner-buttons');
    if (plan && hasWork(plan)) {
      const n = distinctCells(plan);
      const label = this._error ? 'Resume' : 'Restore';
      const cells = `${n} cell${n === 1 ? '' : 's'}`;
      const what = plan.load?.names.length ? (n ? `load + ${cells}` : 'load') : cells;
      buttons.appendChild(this._button(`${label} (${what})`, 'restore', true));
    }
    if (plan?.stale?.names.length) {
      buttons.appendChild(this._button('Load anyway', 'load-stale', false));
    }
    buttons.appendChild(this._button(rerunAllLabel(plan), 'rerun', false));
    buttons.appendChild(this._button('Dismiss', 'dismiss', false));
    if (plan) {
      const toggle = this._button(this._expanded ? 'Hide details' : 'Details', 'details', false);
      toggle.setAttribute('aria-expanded', String(this._expanded));
      toggle.onclick = () => {
        this._expanded = !this._expanded;
        this._render();
      };
      buttons.appendChild(toggle);
    }
    main.appendChild(buttons);
    if (plan && this._expanded) {
      node.appendChild(this._details(plan));
    }
    this._fitToContent();
  }

  /**
   * The content header is a Lumino BoxPanel that sizes children from their CSS
   * min-height, so set the minimum to the rendered content (capped) and ask
   * the layout to fit again; otherwise the details would be clipped. The
   * content is measured with the height the layout gave the node lifted:
   * with it, scrollHeight never reports less than that height, and the banner
   * would grow but never shrink back (details hidden, a restore started).
   */
  private _fitToContent(): void {
    requestAnimationFrame(() => {
      if (this.isDisposed || !this.isVisible) {
        return;
      }
      const style = this.node.style;
      const given = style.height;
      style.minHeight = '0px';
      style.height = 'auto';
      const natural = Math.ceil(this.node.scrollHeight);
      style.height = given;
      const cap = Math.floor(window.innerHeight * 0.4);
      style.minHeight = `${Math.max(36, Math.min(natural, cap))}px`;
      this.parent?.fit();
    });
  }

  private _details(plan: IPlan): HTMLElement {
    const box = el('div', 'jp-revive-Banner-details');
    const list = el('ol', 'jp-revive-Banner-cells');
    const loads = plan.load?.steps ?? [];
    const loadItem = (names: string[]) => {
      const item = el('li', 'jp-revive-Banner-load');
      item.textContent = `Load from a checkpoint (signature verified): ${names.join(', ')}`;
      list.appendChild(item);
    };
    plan.cells.forEach((step, i) => {
      loads.filter(l => l.at === i).forEach(l => loadItem(l.names));
      const item = el('li');
      item.textContent = `Cell ${step.index + 1}: ${step.reason}`;
      list.appendChild(item);
    });
    loads.filter(l => l.at >= plan.cells.length).forEach(l => loadItem(l.names));
    box.appendChild(list);
    // Per name only where checkpoints are involved; else every name just re-runs.
    const checkpointed = !!plan.load || !!plan.stale?.names.length;
    if (plan.outcomes?.length && checkpointed) {
      box.appendChild(outcomeList(plan.outcomes));
    } else if (plan.unrestorable.length) {
      const un = el('div', 'jp-revive-Banner-unrestorable');
      un.textContent = `No cell defines: ${plan.unrestorable.join(', ')}`;
      box.appendChild(un);
    }
    if (plan.warnings.length) {
      const warnings = el('ul', 'jp-revive-Banner-warnings');
      for (const w of plan.warnings) {
        const item = el('li');
        item.textContent = warningText(w);
        warnings.appendChild(item);
      }
      box.appendChild(warnings);
    }
    return box;
  }

  private _button(label: string, action: RecoveryAction, accept: boolean): HTMLButtonElement {
    const button = el(
      'button',
      `jp-Button jp-mod-styled ${accept ? 'jp-mod-accept' : 'jp-mod-reject'} jp-revive-Banner-button`
    ) as HTMLButtonElement;
    button.textContent = label;
    button.dataset.action = action;
    button.onclick = () => this._action.emit(action);
    return button;
  }

  private _plan: IPlan | null = null;
  private _progress: IRestoreProgress | null = null;
  private _error: string | null = null;
  private _headline = 'Kernel state was lost';
  private _expanded = false;
  private _action = new Signal<this, RecoveryAction>(this);
}

const HOW: Record<INameOutcome['how'], string> = {
  load: 'loaded',
  rerun: 're-run',
  unrestorable: 'cannot be restored'
};

/** "model: loaded (from a verified checkpoint)", one line per lost name. */
function outcomeList(outcomes: INameOutcome[]): HTMLElement {
  const list = el('ul', 'jp-revive-Banner-outcomes');
  for (const o of outcomes) {
    const item = el('li', `jp-revive-Banner-outcome jp-mod-${o.how}`);
    const name = el('code');
    name.textContent = o.name;
    item.append(name, `: ${HOW[o.how]} (${o.why})`);
    list.appendChild(item);
  }
  return list;
}

function el(tag: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  return node;
}
