import { Cell, ICellModel, MarkdownCell } from '@jupyterlab/cells';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { UUID } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { PanelLayout, Widget } from '@lumino/widgets';

import { codeSoFar, streamGenerate } from './generate';
import { summarizeNames } from './plan';
import { NotebookReviver } from './reviver';
import {
  GenerateEvent,
  IGeneratedRecord,
  IPlan,
  IPromptRecord,
  IReviveSettings,
  METADATA_KEY
} from './tokens';

type ReviveMeta = { prompt?: IPromptRecord; generated?: IGeneratedRecord };

function reviveMeta(model: ICellModel): ReviveMeta {
  return (model.getMetadata(METADATA_KEY) as ReviveMeta | undefined) ?? {};
}

export function promptId(model: ICellModel): string | null {
  return reviveMeta(model).prompt?.id ?? null;
}

const NO_KEY_HELP =
  'No Anthropic API key on the server. Set ANTHROPIC_API_KEY in the environment of ' +
  'jupyter lab (or c.ReviveGenerator.api_key in jupyter_server_config.py) and restart the server. ' +
  'The key stays on the server: it never reaches the browser, the notebook or the kernel.';

/**
 * Prompt cells of one notebook. A prompt cell is an ordinary markdown cell with
 * `metadata.revive.prompt`, so it stays visible and editable and the notebook
 * opens in plain Jupyter; the generated code lands in an ordinary code cell
 * just below it, linked by `metadata.revive.generated.prompt`.
 */
export class PromptCells implements IDisposable {
  constructor(
    private readonly _reviver: NotebookReviver,
    private readonly _settings: () => IReviveSettings
  ) {
    const panel = _reviver.panel;
    panel.content.model?.cells.changed.connect(this._decorate, this);
    panel.content.modelChanged.connect(() => {
      panel.content.model?.cells.changed.connect(this._decorate, this);
      this._decorate();
    });
    void panel.context.ready.then(() => this._decorate());
  }

  get panel(): NotebookPanel {
    return this._reviver.panel;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const run of this._runs.values()) {
      run.abort();
    }
    this._footers.forEach(f => f.dispose());
    this._footers.clear();
  }

  /** Insert a prompt cell below the active cell and start editing it. */
  insertPrompt(): void {
    const notebook = this.panel.content;
    const model = notebook.model;
    if (!model) {
      return;
    }
    const index = notebook.activeCell ? notebook.activeCellIndex + 1 : model.cells.length;
    const record: IPromptRecord = { id: UUID.uuid4() };
    model.sharedModel.insertCell(index, {
      cell_type: 'markdown',
      source: '',
      metadata: { [METADATA_KEY]: { prompt: { ...record } } }
    });
    notebook.activeCellIndex = index;
    notebook.mode = 'edit';
    this._decorate();
  }

  /** The prompt cell that is active, or the one the active generated cell came from. */
  activePrompt(): Cell | null {
    const cell = this.panel.content.activeCell;
    if (!cell) {
      return null;
    }
    if (promptId(cell.model)) {
      return cell;
    }
    const source = reviveMeta(cell.model).generated?.prompt;
    return source ? this._promptCell(source) : null;
  }

  stop(cell: Cell): void {
    const id = promptId(cell.model);
    if (id) {
      this._runs.get(id)?.abort();
    }
  }

  async generate(cell: Cell, feedback?: string): Promise<GenerateEvent | null> {
    const id = promptId(cell.model);
    const prompt = cell.model.sharedModel.getSource().trim();
    const footer = this._footers.get(cell.model.id);
    if (!id || !footer) {
      return null;
    }
    if (!prompt) {
      footer.setStatus('Write a prompt first.', 'error');
      return null;
    }
    if (this._runs.has(id)) {
      return null;
    }
    if (cell instanceof MarkdownCell) {
      cell.rendered = true;
    }
    const controller = new AbortController();
    this._runs.set(id, controller);
    footer.setRunning(true);
    footer.setStatus('Generating…', 'info');

    const target = this._ensureCodeCell(cell, id);
    const previousSource = target.created ? null : target.model.sharedModel.getSource();
    let text = '';
    let variables: string[] = [];
    const last = await streamGenerate(
      {
        prompt,
        cell_id: cell.model.id,
        notebook: this.panel.context.model.toJSON(),
        kernel_id: this.panel.sessionContext.session?.kernel?.id ?? null,
        feedback,
        options: this._settings().llm
      },
      event => {
        if (event.type === 'start') {
          variables = event.variables ?? [];
        } else if (event.type === 'delta') {
          text += event.text;
          target.model.sharedModel.setSource(codeSoFar(text));
        }
      },
      controller.signal
    );
    this._runs.delete(id);
    footer.setRunning(false);

    if (last.type === 'done') {
      target.model.sharedModel.setSource(last.code);
      const generated: IGeneratedRecord = {
        prompt: id,
        model: last.model ?? '',
        time: new Date().toISOString(),
        variables
      };
      const existing = target.model.getMetadata(METADATA_KEY) as Record<string, unknown> | undefined;
      target.model.setMetadata(METADATA_KEY, { ...(existing ?? {}), generated: { ...generated } });
      await this._afterGenerate(cell, target.model, last.missing ?? [], last.plan ?? null);
      return last;
    }
    // Nothing half-inserted: put the code cell back as it was, offer the partial text.
    this._revert(target.model, target.created, previousSource);
    const stopped =
      last.type === 'cancelled' || (last.type === 'error' && last.kind === 'cancelled');
    const message = stopped
      ? 'Stopped; nothing was inserted.'
      : last.type === 'error'
        ? last.kind === 'no_key'
          ? NO_KEY_HELP
          : last.message
        : 'The answer ended early; nothing was inserted.';
    footer.setStatus(message, stopped ? 'info' : 'error');
    const partial = codeSoFar(text);
    if (partial.trim()) {
      footer.addAction('Keep partial code', () => {
        const kept = this._ensureCodeCell(cell, id);
        kept.model.sharedModel.setSource(partial);
        footer.setStatus('Kept the partial code (not run).', 'info');
      });
    }
    return last;
  }

  private async _afterGenerate(
    prompt: Cell,
    code: ICellModel,
    missing: string[],
    plan: IPlan | null
  ): Promise<void> {
    const footer = this._footers.get(prompt.model.id)!;
    const run = async () => {
      const widget = this.panel.content.widgets.find(w => w.model === code);
      if (widget) {
        await NotebookActions.runCells(this.panel.content, [widget], this.panel.sessionContext);
      }
    };
    if (missing.length === 0) {
      footer.setStatus('Generated.', 'info');
      if (this._settings().runAfterGenerate) {
        await run();
      }
      return;
    }
    const restorable = plan && plan.cells.length > 0;
    const lost = summarizeNames(missing);
    if (restorable) {
      const n = plan.cells.length;
      footer.setStatus(
        `The code needs ${lost}, which the kernel does not hold — restore ${n} ` +
          `cell${n === 1 ? '' : 's'} first?`,
        'warn'
      );
      footer.addAction('Restore and run', async () => {
        footer.setStatus('Restoring…', 'info');
        const result = await this._reviver.runPlan(plan);
        if (result.state === 'done') {
          footer.setStatus('Restored; running the generated code.', 'info');
          await run();
        } else {
          footer.setStatus(result.message ?? `Restore ${result.state}.`, 'error');
        }
      });
    } else {
      footer.setStatus(`Nothing in this notebook defines ${lost}.`, 'warn');
      footer.addAction('Regenerate with this feedback', () => {
        void this.generate(
          prompt,
          `The kernel has no variables named ${missing.join(', ')} and no cell defines them; ` +
            'do not use them.'
        );
      });
    }
    footer.addAction('Run anyway', run);
  }

  private _ensureCodeCell(
    prompt: Cell,
    id: string
  ): { model: ICellModel; created: boolean } {
    const model = this.panel.content.model!;
    const index = this.panel.content.widgets.indexOf(prompt);
    for (let i = index + 1; i < model.cells.length; i++) {
      const candidate = model.cells.get(i);
      if (reviveMeta(candidate).generated?.prompt === id) {
        return { model: candidate, created: false };
      }
    }
    model.sharedModel.insertCell(index + 1, {
      cell_type: 'code',
      source: '',
      metadata: { [METADATA_KEY]: { generated: { prompt: id } } }
    });
    return { model: model.cells.get(index + 1), created: true };
  }

  private _revert(model: ICellModel, created: boolean, previous: string | null): void {
    const notebook = this.panel.content.model!;
    if (created) {
      for (let i = 0; i < notebook.cells.length; i++) {
        if (notebook.cells.get(i) === model) {
          notebook.sharedModel.deleteCell(i);
          return;
        }
      }
    } else if (previous !== null) {
      model.sharedModel.setSource(previous);
    }
  }

  private _promptCell(id: string): Cell | null {
    return this.panel.content.widgets.find(w => promptId(w.model) === id) ?? null;
  }

  /** Give every prompt cell its class and footer (Generate / Stop / status). */
  private _decorate(): void {
    if (this._isDisposed) {
      return;
    }
    const seen = new Set<string>();
    for (const cell of this.panel.content.widgets) {
      if (!promptId(cell.model)) {
        continue;
      }
      seen.add(cell.model.id);
      if (this._footers.has(cell.model.id)) {
        continue;
      }
      cell.addClass('jp-revive-PromptCell');
      const footer = new PromptFooter({
        generate: () => void this.generate(cell),
        stop: () => this.stop(cell)
      });
      // Cells build their DOM lazily; add the footer after it so it sits below the prompt.
      void cell.ready.then(() => {
        if (!footer.isDisposed) {
          (cell.layout as PanelLayout).addWidget(footer);
        }
      });
      this._footers.set(cell.model.id, footer);
    }
    for (const [id, footer] of this._footers) {
      if (!seen.has(id)) {
        footer.dispose();
        this._footers.delete(id);
      }
    }
  }

  private _footers = new Map<string, PromptFooter>();
  private _runs = new Map<string, AbortController>();
  private _isDisposed = false;
}

/** The strip under a prompt cell: buttons, status line and follow-up actions. */
class PromptFooter extends Widget {
  constructor(private readonly _handlers: { generate: () => void; stop: () => void }) {
    super();
    this.addClass('jp-revive-PromptFooter');
    const label = document.createElement('span');
    label.className = 'jp-revive-PromptFooter-label';
    label.textContent = 'Prompt';
    this._generate = button('Generate', 'jp-mod-accept', () => this._handlers.generate());
    this._stop = button('Stop', 'jp-mod-warn', () => this._handlers.stop());
    this._stop.style.display = 'none';
    this._status = document.createElement('span');
    this._status.className = 'jp-revive-PromptFooter-status';
    this._status.setAttribute('role', 'status');
    this._actions = document.createElement('span');
    this._actions.className = 'jp-revive-PromptFooter-actions';
    this.node.append(label, this._generate, this._stop, this._status, this._actions);
  }

  setRunning(running: boolean): void {
    // Not `hidden`: .jp-Button's display rule would override the attribute.
    this._generate.style.display = running ? 'none' : '';
    this._stop.style.display = running ? '' : 'none';
    this._generate.textContent = 'Regenerate';
    this._actions.textContent = '';
    this.node.dataset.running = String(running);
  }

  setStatus(text: string, kind: 'info' | 'warn' | 'error'): void {
    this._status.textContent = text;
    this._status.dataset.kind = kind;
    this._actions.textContent = '';
  }

  addAction(label: string, action: () => void | Promise<void>): void {
    this._actions.appendChild(
      button(label, 'jp-mod-reject', () => {
        this._actions.textContent = '';
        void action();
      })
    );
  }

  private _generate: HTMLButtonElement;
  private _stop: HTMLButtonElement;
  private _status: HTMLSpanElement;
  private _actions: HTMLSpanElement;
}

function button(label: string, kind: string, onclick: () => void): HTMLButtonElement {
  const node = document.createElement('button');
  node.className = `jp-Button jp-mod-styled ${kind} jp-revive-PromptFooter-button`;
  node.textContent = label;
  node.onclick = event => {
    event.stopPropagation();
    onclick();
  };
  return node;
}
