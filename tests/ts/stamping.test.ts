import { describe, expect, it } from 'vitest';

import { runMetadata } from '../../src/stamping';
import { IRunRecord } from '../../src/tokens';

const run: IRunRecord = {
  context: 'c1',
  seq: 2,
  cell: 'a',
  code: 'abc',
  status: 'ok',
  ms: 1.5,
  defined: ['df'],
  deleted: [],
  mutated: []
};

describe("a cell's run metadata", () => {
  it('replaces the last run whole: an observed key left out does not survive', () => {
    const { cell, ...recorded } = run; // a cell's metadata holds all but the cell id
    expect(cell).toBe('a');
    const before = {
      ...recorded,
      seq: 1,
      code: 'old',
      mutated: ['df'],
      files: { read: ['data.csv'], written: [], removed: [] },
      unchanged: ['df']
    };
    expect(runMetadata(before, run)).toEqual(recorded);
  });

  it('keeps what other parts own beside the record', () => {
    const after = runMetadata({ prompt: { id: 'p1' }, generated: { prompt: 'p0' } }, run);
    expect(after.prompt).toEqual({ id: 'p1' });
    expect(after.generated).toEqual({ prompt: 'p0' });
    expect(after.seq).toBe(2);
  });

  it('copies the observed effects the tracker sent', () => {
    const env = { vars: ['TOKEN'], cwd: false, options: [] };
    expect(runMetadata(undefined, { ...run, env }).env).toEqual(env);
    expect('files' in runMetadata(undefined, run)).toBe(false);
  });
});
