import { describe, expect, it } from 'vitest';

import { summarizeNames } from '../../src/plan';

describe('lost names in a headline', () => {
  const kinds = { np: 'module', pd: 'module', plt: 'module', fit: 'function', i: 'temporary' };

  it('shows every name when they fit', () => {
    expect(summarizeNames(['predictions', 'model', 'np'], kinds)).toBe('predictions, model, np');
  });

  it('leads with data and says what kinds the rest are', () => {
    const names = ['predictions', 'model', 'cleaned_df', 'df', 'scores', 'fit', 'np', 'pd', 'plt', 'i'];
    expect(summarizeNames(names, kinds, 40)).toBe(
      'predictions, model, cleaned_df, df (+1, 1 function, 3 modules, 1 loop variable)'
    );
  });

  it('never leads with a module', () => {
    expect(summarizeNames(['np', 'pd', 'plt'], kinds, 5)).toBe('3 modules');
  });
});
