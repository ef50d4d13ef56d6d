import { describe, expect, it } from 'vitest';

import { edgePath, layoutGraph, mergeFlows, reduceFlows } from '../../src/graphLayout';
import { edgeTitle, headline, nodeText, nodeTitle, stubTitle } from '../../src/stateWords';
import { IGraphEdge, IGraphNode, IPlan, IStateGraph } from '../../src/tokens';

function node(position: number, over: Partial<IGraphNode> = {}): IGraphNode {
  return {
    id: `e${position}`,
    position,
    cell_id: `c${position}`,
    cell: position,
    label: `x${position} = ${position}`,
    state: 'live',
    edited: false,
    deleted: false,
    failed: false,
    ms: 3,
    defines: [`x${position}`],
    effects: [],
    ...over
  };
}

function edge(s: number, t: number, names: string[], kind: IGraphEdge['kind'] = 'name'): IGraphEdge {
  return { source: `e${s}`, target: `e${t}`, kind, names };
}

function graph(n: number, edges: IGraphEdge[], state: IStateGraph['state'] = 'live'): IStateGraph {
  return { context: 'k1', state, nodes: Array.from({ length: n }, (_, i) => node(i)), edges };
}

describe('the drawn flows', () => {
  it('merges the kinds between two runs into one flow', () => {
    const flows = mergeFlows(graph(2, [edge(0, 1, ['df']), edge(0, 1, ['data.csv'], 'file')]));
    expect(flows).toEqual([
      { source: 'e0', target: 'e1', names: { name: ['df'], file: ['data.csv'] } }
    ]);
  });

  it('leaves undrawn a flow that a path of drawn ones already implies', () => {
    // The import cell feeds every later run; the chain 0 → 1 → 2 → 3 implies it.
    const g = graph(4, [
      edge(0, 1, ['np']),
      edge(0, 2, ['np']),
      edge(0, 3, ['np']),
      edge(1, 2, ['a']),
      edge(2, 3, ['b'])
    ]);
    const { drawn, implied } = reduceFlows(g.nodes, mergeFlows(g));
    expect(drawn.map(f => `${f.source}>${f.target}`).sort()).toEqual(['e0>e1', 'e1>e2', 'e2>e3']);
    expect(implied.map(f => `${f.source}>${f.target}`).sort()).toEqual(['e0>e2', 'e0>e3']);
  });

  it('keeps flows between independent branches', () => {
    const g = graph(3, [edge(0, 1, ['a']), edge(0, 2, ['a'])]);
    expect(reduceFlows(g.nodes, mergeFlows(g)).drawn).toHaveLength(2);
  });
});

describe('layoutGraph', () => {
  it('puts the runs top to bottom in run order, one per row', () => {
    const layout = layoutGraph(graph(5, [edge(0, 4, ['a']), edge(1, 2, ['b'])]));
    const ys = layout.nodes.map(n => n.y);
    for (let i = 1; i < ys.length; i++) {
      expect(ys[i]).toBeGreaterThan(ys[i - 1]);
    }
    expect(layout.nodes.map(n => n.node.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(layout.height).toBeGreaterThan(ys[4]);
  });

  it('routes every drawn flow from its source box to its target box', () => {
    const layout = layoutGraph(graph(3, [edge(0, 2, ['a']), edge(0, 1, ['b'])]));
    expect(layout.edges).toHaveLength(2);
    for (const e of layout.edges) {
      const from = layout.nodes.find(n => n.node.id === e.flow.source)!;
      const to = layout.nodes.find(n => n.node.id === e.flow.target)!;
      const first = e.points[0];
      const last = e.points[e.points.length - 1];
      expect(first.y).toBeCloseTo(from.y + from.height, 0);
      expect(last.y).toBeCloseTo(to.y, 0);
    }
  });

  it('lays out an empty graph', () => {
    const layout = layoutGraph(graph(0, []));
    expect(layout.nodes).toEqual([]);
    expect(layout.edges).toEqual([]);
  });

  it('lays out 500 runs fed by one import cell without drawing 499 long edges', () => {
    const edges: IGraphEdge[] = [];
    for (let i = 1; i < 500; i++) {
      edges.push(edge(0, i, ['np']), edge(i - 1, i, [`x${i - 1}`]));
    }
    const layout = layoutGraph(graph(500, edges));
    expect(layout.nodes).toHaveLength(500);
    expect(layout.edges).toHaveLength(499);
    expect(layout.implied).toHaveLength(498);
  });
});

describe('edgePath', () => {
  it('starts and ends at the first and last points, curving at the bends', () => {
    const d = edgePath([
      { x: 0, y: 0 },
      { x: 10, y: 10 },
      { x: 10, y: 30 }
    ]);
    expect(d).toBe('M0,0 Q10,10 10,20 L10,30');
    expect(edgePath([])).toBe('');
  });
});

describe('the words', () => {
  const position = (id: string) => Number(id.slice(1));

  it('says in a node where the cell is and how its code starts', () => {
    expect(nodeText(node(4))).toBe('5  x4 = 4');
    const long = node(0, { label: 'result = some_function_with_a_long_name(argument)' });
    expect(nodeText(long)).toBe('1  result = some_functio…');
    expect(nodeText(node(2, { cell: null }))).toBe('✕  x2 = 2');
  });

  it('lists in a tooltip the state, marks, what the run made and used and from where', () => {
    const n = node(3, { state: 'rerun', edited: true, failed: true, effects: ['data.csv'] });
    const title = nodeTitle(
      n,
      [{ source: 'e1', target: 'e3', names: { name: ['df'], env: ['$TOKEN'] } }],
      position,
      [{ kind: 'order', cell: 3, id: 'c3', message: 'used z, made by cell 5 below it' }]
    );
    expect(title.split('\n')).toEqual([
      'Run 4 · Cell 4 (will re-run, edited since run, failed)',
      'x3 = 3',
      'made: x3',
      'changed: data.csv',
      'used df; environment: $TOKEN from run 2',
      'took 3 ms',
      '⚠ used z, made by cell 5 below it'
    ]);
  });

  it('names what flows along an edge', () => {
    const flow = { source: 'e0', target: 'e2', names: { name: ['a', 'b'], file: ['out.csv'] } };
    expect(edgeTitle(flow, position)).toBe('run 1 → run 3: a, b; files: out.csv');
  });
});

describe('headline', () => {
  const plan: IPlan = {
    cells: [
      { index: 0, id: 'c0', reason: '' },
      { index: 1, id: 'c1', reason: '' }
    ],
    names: ['model', 'df'],
    unrestorable: [],
    warnings: [],
    estimate_s: { restore: 2, rerun_all: 600 }
  };

  it('says when the kernel holds everything', () => {
    expect(headline(graph(3, []), null)).toEqual({
      gone: 'Live: the kernel holds what 3 runs made.',
      restore: null
    });
  });

  it('says what is gone, what a restore does and costs, against re-running all', () => {
    expect(headline(graph(3, [], 'lost'), plan)).toEqual({
      gone: 'Gone: model, df.',
      restore: 'Restore: re-run 2 cells (2 s); re-running all: ~10 min.'
    });
  });

  it('says what cannot be restored', () => {
    const words = headline(graph(3, [], 'lost'), { ...plan, cells: [], unrestorable: ['x'] });
    expect(words).toEqual({ gone: 'Gone: model, df. Cannot restore: x.', restore: null });
  });

  it('says when nothing ran yet', () => {
    expect(headline(graph(0, []), null).gone).toMatch(/No runs recorded yet/);
    const guessed = { ...graph(2, [], 'unknown'), context: null };
    expect(headline(guessed, null).gone).toMatch(/No runs recorded yet: the cells in the order/);
  });
});

describe('routing within a budget', () => {
  it('routes near flows and leaves far ones as stubs at both ends, grouped per node', () => {
    // An import cell used by sections that do not feed each other: long flows stay long.
    const edges: IGraphEdge[] = [];
    for (let i = 1; i < 200; i++) {
      edges.push(edge(i % 50 === 1 ? 0 : i - 1, i, ['x']));
      if (i % 50 === 1) {
        edges.push(edge(0, i, ['math']));
      }
    }
    const layout = layoutGraph(graph(200, edges));
    const out = layout.stubs.out.get('e0') ?? [];
    expect(out.map(f => f.target)).toEqual(['e51', 'e101', 'e151']);
    expect(layout.stubs.in.get('e151')).toHaveLength(1);
    expect(layout.edges.map(e => e.flow.target)).not.toContain('e151');
    // Every flow is either routed or a stub.
    expect(layout.edges.length + out.length).toBe(199);
  });

  it('says what a stub stands for', () => {
    const position = (id: string) => Number(id.slice(1));
    const flows = [{ source: 'e0', target: 'e100', names: { name: ['math'] } }];
    expect(stubTitle(flows, 'out', position)).toBe('used far below:\nrun 101: math');
    expect(stubTitle(flows, 'in', position)).toBe('from far above:\nrun 1: math');
  });
});
