import { IFlow } from './graphLayout';
import { formatDuration, hasWork, restoreSummary, summarizeNames } from './plan';
import { GraphEdgeKind, IFinding, IGraphNode, IPlan, IStateGraph } from './tokens';

/**
 * The words of the Kernel State view: node and edge tooltips, and the header
 * saying what is gone and what a restore will do. Pure, like graphLayout.ts.
 */

export const STATE_WORDS: Record<IGraphNode['state'], string> = {
  live: 'live',
  lost: 'lost',
  rerun: 'will re-run',
  load: 'will load from a checkpoint',
  recorded: 'recorded'
};

/** Characters of a cell's first line shown in its node (the tooltip has all of it). */
const LABEL_CHARS = 22;

const KIND_WORDS: Record<GraphEdgeKind, string> = {
  name: '',
  file: 'files: ',
  env: 'environment: ',
  state: 'hidden state: '
};

/** "Cell 5", or "A deleted cell". */
export function cellWords(node: IGraphNode): string {
  return node.cell === null ? 'A deleted cell' : `Cell ${node.cell + 1}`;
}

/** "df, model; files: data.csv; environment: $TOKEN". */
export function flowWords(flow: IFlow): string {
  const parts: string[] = [];
  for (const kind of ['name', 'file', 'env', 'state'] as GraphEdgeKind[]) {
    const names = flow.names[kind];
    if (names?.length) {
      parts.push(KIND_WORDS[kind] + names.join(', '));
    }
  }
  return parts.join('; ');
}

/** The states and marks of a node, as words: "will re-run, edited since run". */
export function nodeStatus(node: IGraphNode): string {
  const words = [STATE_WORDS[node.state]];
  if (node.edited) {
    words.push('edited since run');
  }
  if (node.failed) {
    words.push('failed');
  }
  if (node.deleted) {
    words.push('deleted since');
  }
  return words.join(', ');
}

function duration(ms: number | null): string {
  if (ms === null) {
    return '';
  }
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A node's tooltip: where and what it is, what it made, what it used and from
 * which run (all flows, also those the drawing leaves implied), findings.
 */
export function nodeTitle(
  node: IGraphNode,
  incoming: readonly IFlow[],
  positionOf: (id: string) => number | undefined,
  findings: readonly IFinding[] = []
): string {
  const lines = [
    `Run ${node.position + 1} · ${cellWords(node)} (${nodeStatus(node)})`,
    node.label
  ];
  if (node.defines.length) {
    lines.push(`made: ${summarizeNames(node.defines, {}, 80)}`);
  }
  if (node.effects.length) {
    lines.push(`changed: ${node.effects.join(', ')}`);
  }
  for (const flow of incoming) {
    const from = positionOf(flow.source);
    lines.push(`used ${flowWords(flow)} from run ${from === undefined ? '?' : from + 1}`);
  }
  const took = duration(node.ms);
  if (took) {
    lines.push(`took ${took}`);
  }
  for (const finding of findings) {
    lines.push(`⚠ ${finding.message}`);
  }
  return lines.join('\n');
}

/** An edge's tooltip: "run 1 → run 3: df, model; files: data.csv". */
export function edgeTitle(flow: IFlow, positionOf: (id: string) => number | undefined): string {
  const run = (id: string) => {
    const p = positionOf(id);
    return p === undefined ? '?' : String(p + 1);
  };
  return `run ${run(flow.source)} → run ${run(flow.target)}: ${flowWords(flow)}`;
}

/** A stub's tooltip: the flows to runs far below (`out`) or from runs far above (`in`). */
export function stubTitle(
  flows: readonly IFlow[],
  direction: 'out' | 'in',
  positionOf: (id: string) => number | undefined
): string {
  const lines = [direction === 'out' ? 'used far below:' : 'from far above:'];
  for (const flow of flows) {
    const p = positionOf(direction === 'out' ? flow.target : flow.source);
    lines.push(`run ${p === undefined ? '?' : p + 1}: ${flowWords(flow)}`);
  }
  return lines.join('\n');
}

/** The header: what is gone, and what a restore will do and cost (from the server's plan). */
export interface IHeadline {
  gone: string;
  restore: string | null;
}

export function headline(graph: IStateGraph, plan: IPlan | null): IHeadline {
  const runs = graph.nodes.length;
  if (!runs) {
    return { gone: 'No runs recorded yet: run cells to see them here.', restore: null };
  }
  if (graph.context === null) {
    // No tracked run: the server reads the order from execution counts, else top to bottom.
    return {
      gone: 'No runs recorded yet: the cells in the order a restore would assume.',
      restore: null
    };
  }
  const ran = `${runs} run${runs === 1 ? '' : 's'}`;
  if (graph.state === 'live') {
    return { gone: `Live: the kernel holds what ${ran} made.`, restore: null };
  }
  if (graph.state === 'unknown') {
    return {
      gone: `${ran} recorded; the kernel cannot say what it holds (no kernel, busy, or not tracked).`,
      restore: null
    };
  }
  if (!plan) {
    return { gone: `Gone: what ${ran} made (the kernel restarted).`, restore: null };
  }
  const names = plan.names.length
    ? summarizeNames(plan.names, plan.kinds ?? {})
    : 'nothing a restore needs';
  const gone = `Gone: ${names}.`;
  const unrestorable = plan.unrestorable.length
    ? ` Cannot restore: ${summarizeNames(plan.unrestorable)}.`
    : '';
  if (!hasWork(plan)) {
    return { gone: gone + unrestorable, restore: null };
  }
  const all = plan.estimate_s?.rerun_all;
  const against = all === undefined ? '' : `; re-running all: ~${formatDuration(all)}`;
  const restore = `Restore: ${restoreSummary(plan)}${against}.${unrestorable}`;
  return { gone, restore };
}

/** "5  df = load(…)": the cell's position and the start of its first line. */
export function nodeText(node: IGraphNode): string {
  const where = node.cell === null ? '✕' : String(node.cell + 1);
  const label =
    node.label.length > LABEL_CHARS ? node.label.slice(0, LABEL_CHARS - 1) + '…' : node.label;
  return `${where}  ${label || cellWords(node)}`;
}
