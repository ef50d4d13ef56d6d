import dagre, { EdgeLabel, GraphLabel, NodeLabel } from '@dagrejs/dagre';

import { GraphEdgeKind, IGraphNode, IStateGraph } from './tokens';

/**
 * The pure layout step of the Kernel State view: which flows between executions
 * are drawn, and where dagre puts the nodes and routes the edges. No DOM here,
 * so it runs (and is tested) anywhere.
 */

export interface IPoint {
  x: number;
  y: number;
}

/** Everything one execution made that a later one used, all kinds together. */
export interface IFlow {
  source: string;
  target: string;
  names: Partial<Record<GraphEdgeKind, string[]>>;
}

/** A node with its box: (x, y) is the top-left corner. */
export interface IPlacedNode {
  node: IGraphNode;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IPlacedEdge {
  flow: IFlow;
  points: IPoint[];
}

/** Flows too far apart to route, drawn as stubs at their ends: all of one node's together. */
export interface IStubs {
  /** Node id → its flows leaving (to runs far below) and arriving (from runs far above). */
  out: Map<string, IFlow[]>;
  in: Map<string, IFlow[]>;
}

export interface ILayout {
  width: number;
  height: number;
  nodes: IPlacedNode[];
  edges: IPlacedEdge[];
  stubs: IStubs;
  /** Flows left undrawn since a path of drawn ones already leads there. */
  implied: IFlow[];
}

export interface ILayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
}

/** Narrow enough for a side panel's default width, with room for a lane of edges. */
/**
 * dagre routes an edge that spans k runs through k - 1 hidden nodes, and its time grows with
 * all nodes, hidden or not (about 0.3 ms each here): routed flows get at most this many hidden
 * nodes, nearest flows first, and none spans more than MAX_ROUTED_SPAN runs. The rest are stubs.
 */
export const ROUTING_BUDGET = 500;
export const MAX_ROUTED_SPAN = 30;

export const DEFAULT_LAYOUT: ILayoutOptions = { nodeWidth: 184, nodeHeight: 24 };

/** The server's edges (one per kind) merged into one flow per pair of executions. */
export function mergeFlows(graph: IStateGraph): IFlow[] {
  const byPair = new Map<string, IFlow>();
  for (const edge of graph.edges) {
    const key = `${edge.source}>${edge.target}`;
    let flow = byPair.get(key);
    if (!flow) {
      flow = { source: edge.source, target: edge.target, names: {} };
      byPair.set(key, flow);
    }
    flow.names[edge.kind] = [...(flow.names[edge.kind] ?? []), ...edge.names];
  }
  return [...byPair.values()];
}

/**
 * Split flows into those to draw and those implied by a longer path of drawn
 * ones (the transitive reduction). A notebook's import cell feeds every later
 * cell; drawn whole, 500 cells are a hairball that also takes dagre seconds to
 * route. Every flow stays in the tooltips. Flows go from an earlier run to a
 * later one, so taking each node's successors nearest first finds the paths.
 */
export function reduceFlows(
  nodes: readonly IGraphNode[],
  flows: readonly IFlow[]
): { drawn: IFlow[]; implied: IFlow[] } {
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const out: IFlow[][] = nodes.map(() => []);
  const drawn: IFlow[] = [];
  const implied: IFlow[] = [];
  for (const flow of flows) {
    const s = index.get(flow.source);
    const t = index.get(flow.target);
    if (s === undefined || t === undefined) {
      continue;
    }
    if (s < t) {
      out[s].push(flow);
    } else {
      drawn.push(flow); // not forward in run order: nothing can imply it
    }
  }
  const words = Math.ceil(nodes.length / 32);
  const reach = nodes.map(() => new Uint32Array(words));
  for (let s = nodes.length - 1; s >= 0; s--) {
    const mine = reach[s];
    const sorted = out[s]
      .map(flow => ({ flow, t: index.get(flow.target)! }))
      .sort((a, b) => a.t - b.t);
    for (const { flow, t } of sorted) {
      if (mine[t >>> 5] & (1 << (t & 31))) {
        implied.push(flow);
        continue;
      }
      drawn.push(flow);
      mine[t >>> 5] |= 1 << (t & 31);
      const theirs = reach[t];
      for (let w = 0; w < words; w++) {
        mine[w] |= theirs[w];
      }
    }
  }
  return { drawn, implied };
}

/** Which drawn flows dagre routes, within ROUTING_BUDGET; the others become stubs. */
export function routeWithinBudget(
  nodes: readonly IGraphNode[],
  drawn: readonly IFlow[],
  budget = ROUTING_BUDGET
): { routed: IFlow[]; stubs: IStubs } {
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const span = (f: IFlow) => Math.abs(index.get(f.target)! - index.get(f.source)!);
  const bySpan = [...drawn].sort((a, b) => span(a) - span(b));
  const routed: IFlow[] = [];
  const stubs: IStubs = { out: new Map(), in: new Map() };
  let hidden = 0;
  for (const flow of bySpan) {
    const k = span(flow);
    if (k <= 1 || (k <= MAX_ROUTED_SPAN && hidden + k - 1 <= budget)) {
      routed.push(flow);
      hidden += Math.max(0, k - 1);
    } else {
      stubs.out.set(flow.source, [...(stubs.out.get(flow.source) ?? []), flow]);
      stubs.in.set(flow.target, [...(stubs.in.get(flow.target) ?? []), flow]);
    }
  }
  return { routed, stubs };
}

/**
 * Lay the executions out top to bottom in run order (an invisible edge from
 * each run to the next puts every run on its own rank), with the drawn flows
 * routed by dagre beside the column (within a budget: see routeWithinBudget).
 */
export function layoutGraph(
  graph: IStateGraph,
  options: ILayoutOptions = DEFAULT_LAYOUT
): ILayout {
  const { drawn, implied } = reduceFlows(graph.nodes, mergeFlows(graph));
  const { routed, stubs } = routeWithinBudget(graph.nodes, drawn);
  const g = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>();
  g.setGraph({
    rankdir: 'TB',
    // The run-order edges fix every rank already: the cheapest ranker gives the same ranks.
    ranker: 'longest-path',
    nodesep: 14,
    edgesep: 6,
    ranksep: 10,
    marginx: 6,
    marginy: 6
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    g.setNode(node.id, { width: options.nodeWidth, height: options.nodeHeight });
  }
  const flowOf = new Map<string, IFlow>();
  for (const flow of routed) {
    g.setEdge(flow.source, flow.target, { weight: 2 });
    flowOf.set(`${flow.source}>${flow.target}`, flow);
  }
  for (let i = 1; i < graph.nodes.length; i++) {
    const [a, b] = [graph.nodes[i - 1].id, graph.nodes[i].id];
    if (!g.hasEdge(a, b)) {
      g.setEdge(a, b, { weight: 1, minlen: 1 });
    }
  }
  if (graph.nodes.length) {
    dagre.layout(g);
  }
  const nodes = graph.nodes.map(node => {
    const placed = g.node(node.id);
    return {
      node,
      x: (placed.x ?? 0) - options.nodeWidth / 2,
      y: (placed.y ?? 0) - options.nodeHeight / 2,
      width: options.nodeWidth,
      height: options.nodeHeight
    };
  });
  const edges: IPlacedEdge[] = [];
  for (const e of g.edges()) {
    const flow = flowOf.get(`${e.v}>${e.w}`);
    if (flow) {
      edges.push({ flow, points: g.edge(e).points ?? [] });
    }
  }
  const label = g.graph();
  return {
    width: label.width ?? 0,
    height: label.height ?? 0,
    nodes,
    edges,
    stubs,
    implied
  };
}

/** An SVG path through dagre's points, smoothed with quadratic curves at the bends. */
export function edgePath(points: readonly IPoint[]): string {
  if (!points.length) {
    return '';
  }
  const f = (n: number) => Math.round(n * 10) / 10;
  let d = `M${f(points[0].x)},${f(points[0].y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const next = points[i + 1];
    d += ` Q${f(p.x)},${f(p.y)} ${f((p.x + next.x) / 2)},${f((p.y + next.y) / 2)}`;
  }
  const last = points[points.length - 1];
  return `${d} L${f(last.x)},${f(last.y)}`;
}
