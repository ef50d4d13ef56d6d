import { describe, expect, it } from 'vitest';

import { autoCheckpointNames, capBytes, formatBytes } from '../../src/checkpoint';
import { formatDuration, hasWork, rerunAllLabel, restoreSummary } from '../../src/plan';
import { IPlan, IRunRecord } from '../../src/tokens';

const plan = (over: Partial<IPlan>): IPlan => ({
  cells: [],
  names: ['df', 'model', 'predictions'],
  unrestorable: [],
  warnings: [],
  ...over
});
const cell = (id: string, index: number) => ({ id, index, reason: 'defines x' });

describe('restore texts', () => {
  it('says what is loaded and what re-runs, with the time of each part', () => {
    const p = plan({
      cells: [cell('c1', 0), cell('c5', 4)],
      load: {
        names: ['df', 'model'],
        steps: [{ checkpoint: 'ck', names: ['df', 'model'], position: 4, at: 1 }],
        estimate_s: 2.2
      },
      estimate_s: { restore: 3.4, rerun_all: 610 }
    });
    expect(restoreSummary(p)).toBe(
      'load df, model from a checkpoint (2 s), re-run 2 cells (1 s)'
    );
    expect(rerunAllLabel(p)).toBe('Re-run all (~10 min)');
    expect(hasWork(p)).toBe(true);
  });

  it('is a plain re-run without a checkpoint, and a load alone without cells', () => {
    const rerun = plan({ cells: [cell('c1', 0)], estimate_s: { restore: 0.04, rerun_all: 1 } });
    expect(restoreSummary(rerun)).toBe('re-run 1 cell (0.1 s)');
    const loadOnly = plan({
      load: { names: ['model'], steps: [], estimate_s: 0.5 },
      estimate_s: { restore: 0.5, rerun_all: 100 }
    });
    expect(restoreSummary(loadOnly)).toBe('load model from a checkpoint (0.5 s)');
    expect(hasWork(loadOnly)).toBe(true);
    expect(hasWork(plan({}))).toBe(false);
    expect(rerunAllLabel(null)).toBe('Re-run all');
  });

  it('rounds durations as estimates', () => {
    expect(formatDuration(0.01)).toBe('0.1 s');
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(150)).toBe('3 min');
    expect(formatDuration(3 * 3600 + 300)).toBe('3 h 5 min');
  });
});

describe('automatic checkpoints', () => {
  const record = (over: Partial<IRunRecord>): IRunRecord => ({
    context: 'ctx',
    seq: 3,
    cell: 'c3',
    code: 'abc',
    status: 'ok',
    ms: 12_000,
    defined: ['model'],
    deleted: [],
    ...over
  });
  const on = { autoCheckpoint: true, autoCheckpointSeconds: 5 };

  it('follow long cells, with what they bound or changed', () => {
    expect(autoCheckpointNames(record({ mutated: ['history', 'model'] }), on)).toEqual([
      'model',
      'history'
    ]);
  });

  it('skip short or failed cells, and when switched off', () => {
    expect(autoCheckpointNames(record({ ms: 400 }), on)).toEqual([]);
    expect(autoCheckpointNames(record({ status: 'error' }), on)).toEqual([]);
    expect(autoCheckpointNames(record({}), { ...on, autoCheckpoint: false })).toEqual([]);
  });

  it('send the per-notebook cap in bytes, or none for the server\'s', () => {
    expect(capBytes({ checkpointCapGB: 2.5 })).toBe(2_500_000_000);
    expect(capBytes({ checkpointCapGB: 0 })).toBeNull();
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(35_400_000)).toBe('35 MB');
    expect(formatBytes(1_230_000_000)).toBe('1.2 GB');
  });
});
