import { Kernel } from '@jupyterlab/services';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './api';
import { edgePath, IFlow, ILayout, layoutGraph, mergeFlows } from './graphLayout';
import { stateIcon } from './icons';
import { planningNotebook } from './plan';
import { NotebookReviver } from './reviver';
import { edgeTitle, headline, nodeText, nodeTitle, STATE_WORDS, stubTitle } from './stateWords';
import { IFinding, IGraphNode, IPlan, IRestoreProgress, IStateGraph } from './tokens';

const SVG_NS = 'http://www.w3.org/2000/svg';
const CLASS = 'jp-revive-StateView';
/** Quick refreshes (runs, restarts, restore steps) are gathered this long. */
const REFRESH_MS = 250;
/** Edits make cells "edited since run": asked again once typing pauses. */
const EDIT_REFRESH_MS = 1500;

/** Legend entries: state or mark → words. */
const LEGEND: [string, string][] = [
  ['live', STATE_WORDS.live],
  ['lost', STATE_WORDS.lost],
  ['rerun', STATE_WORDS.rerun],
  ['load', STATE_WORDS.load],
  ['edited', 'edited since run'],
  ['failed', 'failed'],
  ['finding', 'may not reproduce']
];

export interface IStateViewOptions {
  notebooks: INotebookTracker;
  reviverOf: (panel: NotebookPanel) => NotebookReviver | undefined;
  /** Bring a notebook to the front (the shell's activateById). */
  activate: (id: string) => void;
}

/**
 * The Kernel State view (a side panel): the current notebook's executions as a
 * graph from `POST graph`, nodes in run order coloured by what the kernel still
 * holds and what a restore will do with them, the header from the same plan the
 * banner shows. It follows the notebook: runs, restarts, restores, edits,
 * switching notebooks. Clicking a node selects and scrolls to its cell.
 *
 * For tests and benchmarks the node carries `data-revive-state` (the graph's
 * state), `data-revive-nodes`, and `data-revive-layout-ms` /
 * `data-revive-render-ms`: from the graph in hand to the SVG built, and to the
 * next frame painted.
 */
export class StateView extends Widget {
  constructor(private readonly _options: IStateViewOptions) {
    super();
    this.id = 'jp-revive-state-view';
    this.addClass(CLASS);
    this.title.icon = stateIcon;
    this.title.caption = 'Kernel State';
    this._header = this._div(`${CLASS}-header`);
    this._gone = this._div(`${CLASS}-gone`, this._header);
    this._restore = this._div(`${CLASS}-restore`, this._header);
    this._progress = this._div(`${CLASS}-progress`, this._header);
    this._legend = this._div(`${CLASS}-legend`);
    for (const [key, words] of LEGEND) {
      const item = this._div(`${CLASS}-legendItem`, this._legend);
      item.dataset.key = key;
      this._div(`${CLASS}-swatch`, item);
      item.appendChild(document.createTextNode(words));
    }
    this._body = this._div(`${CLASS}-body`);
    this._body.addEventListener('click', this._onClick);
    _options.notebooks.currentChanged.connect(this._onCurrentChanged, this);
    this._follow(_options.notebooks.currentWidget);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._follow(null);
    this._options.notebooks.currentChanged.disconnect(this._onCurrentChanged, this);
    clearTimeout(this._timer);
    super.dispose();
  }

  /** The notebook the view shows. */
  get panel(): NotebookPanel | null {
    return this._panel;
  }

  /** Mark these findings' cells (from the save check's "Show"); [] clears. */
  showFindings(panel: NotebookPanel, findings: readonly IFinding[]): void {
    this._findings.set(panel, findings);
    if (panel === this._panel && this._graph) {
      this._render();
      this._scrollToFirst(`.${CLASS}-node[data-finding]`);
    }
  }

  /** Ask the server again now (when shown; else once shown). */
  async refresh(): Promise<void> {
    clearTimeout(this._timer);
    this._timer = 0;
    const panel = this._panel;
    if (!this.isVisible || !panel) {
      this._stale = true;
      if (!panel) {
        this._show(null, null);
      }
      return;
    }
    this._stale = false;
    const reviver = this._options.reviverOf(panel);
    const ticket = ++this._ticket;
    try {
      const graph = await requestAPI<IStateGraph>('graph', {
        method: 'POST',
        body: JSON.stringify({
          notebook: planningNotebook(panel, reviver?.lost ?? null),
          kernel_id: panel.sessionContext.session?.kernel?.id ?? null
        })
      });
      // What is gone and what a restore costs: the plan the banner shows.
      let plan: IPlan | null = null;
      if (graph.state === 'lost' && reviver) {
        plan = reviver.runner.running ? reviver.plan : await reviver.refreshPlan();
      }
      if (ticket === this._ticket && panel === this._panel && !this.isDisposed) {
        this._show(graph, plan);
      }
    } catch (reason) {
      if (ticket === this._ticket && !this.isDisposed) {
        this._gone.textContent = `Could not read the notebook's executions: ${String(reason)}`;
      }
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._stale) {
      void this.refresh();
    }
  }

  private _onCurrentChanged(_: INotebookTracker, panel: NotebookPanel | null): void {
    // After the tracker's other listeners: a new notebook's reviver is made in one.
    void Promise.resolve().then(() => {
      if (!this.isDisposed && this._options.notebooks.currentWidget === panel) {
        this._follow(panel);
      }
    });
  }

  /** Listen to what changes this notebook's state, and to nothing else. */
  private _follow(panel: NotebookPanel | null): void {
    const old = this._panel;
    if (panel === old && panel) {
      return;
    }
    if (old) {
      const reviver = this._options.reviverOf(old);
      reviver?.stamper.stamped.disconnect(this._soon, this);
      reviver?.watcher.verdictChanged.disconnect(this._soon, this);
      reviver?.runner.progress.disconnect(this._onProgress, this);
      old.sessionContext.statusChanged.disconnect(this._onStatus, this);
      old.sessionContext.kernelChanged.disconnect(this._soon, this);
      old.model?.contentChanged.disconnect(this._onEdited, this);
      old.disposed.disconnect(this._onDisposed, this);
    }
    this._panel = panel;
    this._graph = null;
    this._progress.textContent = '';
    if (panel) {
      const reviver = this._options.reviverOf(panel);
      reviver?.stamper.stamped.connect(this._soon, this);
      reviver?.watcher.verdictChanged.connect(this._soon, this);
      reviver?.runner.progress.connect(this._onProgress, this);
      panel.sessionContext.statusChanged.connect(this._onStatus, this);
      panel.sessionContext.kernelChanged.connect(this._soon, this);
      panel.model?.contentChanged.connect(this._onEdited, this);
      panel.disposed.connect(this._onDisposed, this);
      this._gone.textContent = 'Reading the notebook’s executions…';
      this._restore.textContent = '';
      void panel.context.ready.then(() => {
        if (panel === this._panel) {
          panel.model?.contentChanged.connect(this._onEdited, this);
          this._soon();
        }
      });
    } else {
      this._show(null, null);
    }
  }

  private _onDisposed(): void {
    this._follow(null);
  }

  /** A slot for every signal that changes what the view shows. */
  private _soon(): void {
    this._later(REFRESH_MS);
  }

  /** Refresh after `delay` ms, or sooner if one is due sooner (typing never postpones a run's). */
  private _later(delay: number): void {
    const due = performance.now() + delay;
    if (this._timer && due >= this._due) {
      return;
    }
    clearTimeout(this._timer);
    this._due = due;
    this._timer = window.setTimeout(() => {
      this._timer = 0;
      void this.refresh();
    }, delay);
  }

  private _onEdited(): void {
    this._later(EDIT_REFRESH_MS);
  }

  private _onStatus(_: unknown, status: Kernel.Status): void {
    // A restart empties the kernel: say so as soon as it is back (or dead).
    if (status === 'restarting' || status === 'autorestarting') {
      this._restarted = true;
    } else if ((status === 'idle' && this._restarted) || status === 'dead') {
      this._restarted = false;
      this._soon();
    }
  }

  private _onProgress(_: unknown, progress: IRestoreProgress): void {
    const words: Record<IRestoreProgress['state'], string> = {
      running: `Restoring: ${progress.done} of ${progress.total} cells run`,
      loading: `Restoring: loading ${(progress.names ?? []).join(', ')} from a checkpoint`,
      done: 'Restored.',
      cancelled: 'Restore cancelled.',
      failed: `Restore stopped: ${progress.message ?? 'failed'}`
    };
    this._progress.textContent = words[progress.state];
    this._soon();
  }

  private _show(graph: IStateGraph | null, plan: IPlan | null): void {
    this._graph = graph;
    if (!graph) {
      this._gone.textContent = 'Open a notebook to see its kernel state.';
      this._restore.textContent = '';
      this._body.replaceChildren();
      delete this.node.dataset.reviveState;
      return;
    }
    const words = headline(graph, plan);
    this._gone.textContent = words.gone;
    this._restore.textContent = words.restore ?? '';
    this._render();
  }

  /** Lay out and draw the graph held; timed for the benchmark. */
  private _render(): void {
    const graph = this._graph;
    if (!graph) {
      return;
    }
    const start = performance.now();
    const layout = layoutGraph(graph);
    const svg = this._svg(graph, layout);
    this._body.replaceChildren(svg);
    const built = performance.now();
    this.node.dataset.reviveState = graph.state;
    this.node.dataset.reviveNodes = String(graph.nodes.length);
    this.node.dataset.reviveLayoutMs = (built - start).toFixed(1);
    requestAnimationFrame(() => {
      // A task queued from the next frame runs after its style, layout and paint.
      setTimeout(() => {
        this.node.dataset.reviveRenderMs = (performance.now() - start).toFixed(1);
      }, 0);
    });
  }

  private _svg(graph: IStateGraph, layout: ILayout): SVGSVGElement {
    const svg = svgElement('svg', {
      class: `${CLASS}-graph`,
      width: String(Math.ceil(layout.width)),
      height: String(Math.ceil(layout.height)),
      viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`
    });
    const defs = svgElement('defs', {});
    const marker = svgElement('marker', {
      id: `${CLASS}-arrow`,
      viewBox: '0 0 8 8',
      refX: '7',
      refY: '4',
      markerWidth: '6',
      markerHeight: '6',
      orient: 'auto-start-reverse'
    });
    marker.appendChild(svgElement('path', { d: 'M0,0 L8,4 L0,8 z', class: `${CLASS}-arrowHead` }));
    defs.appendChild(marker);
    svg.appendChild(defs);

    const position = new Map(graph.nodes.map(n => [n.id, n.position]));
    const positionOf = (id: string) => position.get(id);
    const stateOf = new Map(graph.nodes.map(n => [n.id, n.state]));
    const incoming = new Map<string, IFlow[]>();
    for (const flow of mergeFlows(graph)) {
      incoming.set(flow.target, [...(incoming.get(flow.target) ?? []), flow]);
    }
    const findings = (this._panel && this._findings.get(this._panel)) || [];
    const findingsOf = new Map<string, IFinding[]>();
    for (const f of findings) {
      findingsOf.set(f.id, [...(findingsOf.get(f.id) ?? []), f]);
    }

    const edges = svgElement('g', { class: `${CLASS}-edges` });
    for (const edge of layout.edges) {
      const planned = (id: string) => ['rerun', 'load'].includes(stateOf.get(id) ?? '');
      const group = svgElement('g', {
        class: `${CLASS}-edge`,
        'data-kinds': Object.keys(edge.flow.names).join(' ')
      });
      if (planned(edge.flow.source) && planned(edge.flow.target)) {
        group.dataset.plan = '';
      }
      const title = svgElement('title', {});
      title.textContent = edgeTitle(edge.flow, positionOf);
      const d = edgePath(edge.points);
      group.append(
        title,
        svgElement('path', { d, class: `${CLASS}-edgeHit` }),
        svgElement('path', { d, class: `${CLASS}-edgeLine`, 'marker-end': `url(#${CLASS}-arrow)` })
      );
      edges.appendChild(group);
    }
    svg.appendChild(edges);

    const nodes = svgElement('g', { class: `${CLASS}-nodes` });
    for (const placed of layout.nodes) {
      const node = placed.node;
      const marks = findingsOf.get(node.cell_id) ?? [];
      const group = svgElement('g', {
        class: `${CLASS}-node`,
        transform: `translate(${placed.x.toFixed(1)},${placed.y.toFixed(1)})`,
        'data-state': node.state,
        'data-cell-id': node.cell_id,
        'data-position': String(node.position)
      });
      for (const [flag, on] of [
        ['edited', node.edited],
        ['failed', node.failed],
        ['deleted', node.deleted],
        ['finding', marks.length > 0]
      ] as [string, boolean][]) {
        if (on) {
          group.setAttribute(`data-${flag}`, '');
        }
      }
      const title = svgElement('title', {});
      title.textContent = nodeTitle(node, incoming.get(node.id) ?? [], positionOf, marks);
      const text = svgElement('text', { x: '11', y: String(placed.height / 2 + 4) });
      text.textContent = nodeText(node);
      group.append(
        title,
        svgElement('rect', {
          class: `${CLASS}-box`,
          width: String(placed.width),
          height: String(placed.height),
          rx: '3'
        }),
        svgElement('rect', { class: `${CLASS}-bar`, width: '5', height: String(placed.height), rx: '2' }),
        text
      );
      const badges = nodeBadges(node, marks.length > 0);
      if (badges) {
        const badge = svgElement('text', {
          class: `${CLASS}-badge`,
          x: String(placed.width - 5),
          y: String(placed.height / 2 + 4),
          'text-anchor': 'end'
        });
        badge.textContent = badges;
        group.appendChild(badge);
      }
      for (const direction of ['out', 'in'] as const) {
        const far = layout.stubs[direction].get(node.id);
        if (far) {
          group.appendChild(stub(direction, placed.height, stubTitle(far, direction, positionOf)));
        }
      }
      nodes.appendChild(group);
    }
    svg.appendChild(nodes);
    return svg;
  }

  private _scrollToFirst(selector: string): void {
    const first = this._body.querySelector(selector);
    first?.scrollIntoView({ block: 'center' });
  }

  /** A click on a node selects its cell and scrolls the notebook to it. */
  private _onClick = (event: MouseEvent): void => {
    const target = (event.target as Element | null)?.closest(`.${CLASS}-node`);
    const panel = this._panel;
    const cellId = target?.getAttribute('data-cell-id');
    if (!panel || !cellId) {
      return;
    }
    const index = panel.content.widgets.findIndex(cell => cell.model.id === cellId);
    if (index < 0) {
      return; // a deleted cell
    }
    this._options.activate(panel.id);
    panel.content.activeCellIndex = index;
    panel.content.deselectAll();
    void panel.content.scrollToItem(index, 'smart');
    this._body
      .querySelectorAll(`.${CLASS}-node[data-selected]`)
      .forEach(n => n.removeAttribute('data-selected'));
    this._body
      .querySelectorAll(`.${CLASS}-node[data-cell-id="${CSS.escape(cellId)}"]`)
      .forEach(n => n.setAttribute('data-selected', ''));
  };

  private _div(className: string, parent: HTMLElement = this.node): HTMLDivElement {
    const div = document.createElement('div');
    div.className = className;
    parent.appendChild(div);
    return div;
  }

  private _panel: NotebookPanel | null = null;
  private _graph: IStateGraph | null = null;
  private _findings = new WeakMap<NotebookPanel, readonly IFinding[]>();
  private _ticket = 0;
  private _timer = 0;
  private _due = 0;
  private _stale = true;
  private _restarted = false;
  private readonly _header: HTMLDivElement;
  private readonly _gone: HTMLDivElement;
  private readonly _restore: HTMLDivElement;
  private readonly _progress: HTMLDivElement;
  private readonly _legend: HTMLDivElement;
  private readonly _body: HTMLDivElement;
}

/**
 * A flow to or from a run too far away to route: a short arrow leaving the node's bottom
 * (to runs below) or entering its top (from runs above), on the left, clear of routed edges.
 */
function stub(direction: 'out' | 'in', height: number, text: string): SVGGElement {
  const group = svgElement('g', { class: `${CLASS}-stub`, 'data-direction': direction });
  const title = svgElement('title', {});
  title.textContent = text;
  const d = direction === 'out' ? `M14,${height} L8,${height + 8}` : `M6,-8 L12,0`;
  group.append(
    title,
    svgElement('path', { d, class: `${CLASS}-edgeHit` }),
    svgElement('path', { d, class: `${CLASS}-edgeLine`, 'marker-end': `url(#${CLASS}-arrow)` })
  );
  return group;
}

/** Short marks at a node's right end: "✎" edited, "✗" failed, "!" a finding. */
function nodeBadges(node: IGraphNode, finding: boolean): string {
  return [node.edited ? '✎' : '', node.failed ? '✗' : '', finding ? '!' : '']
    .filter(Boolean)
    .join(' ');
}

function svgElement<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string>
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  return element;
}
