import { describe, expect, it } from 'vitest';

import { computeVerdict } from '../../src/verdict';

const history: [string, string][] = [['c1', 'abc']];

describe('computeVerdict', () => {
  it('is fresh when the notebook recorded no run', () => {
    expect(computeVerdict(undefined, 'k1')).toBe('fresh');
    expect(computeVerdict({ context: 'k1', history: [] }, 'k1')).toBe('fresh');
    expect(computeVerdict({ history }, 'k1')).toBe('fresh');
  });

  it('is unknown while the kernel context is not known', () => {
    expect(computeVerdict({ context: 'k1', history }, null)).toBe('unknown');
  });

  it('is live in the recorded kernel process, stale in any other', () => {
    expect(computeVerdict({ context: 'k1', history }, 'k1')).toBe('live');
    expect(computeVerdict({ context: 'k1', history }, 'k2')).toBe('stale');
  });
});
