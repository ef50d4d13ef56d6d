import { describe, expect, it } from 'vitest';

import { IRecoveryFacts, recoveryStep } from '../../src/recovery';

const facts = (over: Partial<IRecoveryFacts>): IRecoveryFacts => ({
  mode: 'ask',
  onRestart: false,
  lostNames: 3,
  interrupted: false,
  ...over
});

describe('recoveryStep', () => {
  it('says nothing when the user chose never or nothing was lost', () => {
    expect(recoveryStep(facts({ mode: 'never' }))).toBe('nothing');
    expect(recoveryStep(facts({ mode: 'never', interrupted: true }))).toBe('nothing');
    expect(recoveryStep(facts({ lostNames: 0, onRestart: true }))).toBe('nothing');
  });

  it('offers Resume, not a dialog, when the kernel died under our own restore', () => {
    expect(recoveryStep(facts({ onRestart: true, interrupted: true }))).toBe('resume');
    expect(recoveryStep(facts({ mode: 'always', interrupted: true }))).toBe('resume');
  });

  it('restores at once when the setting says always', () => {
    expect(recoveryStep(facts({ mode: 'always' }))).toBe('restore');
    expect(recoveryStep(facts({ mode: 'always', onRestart: true }))).toBe('restore');
  });

  it('asks with a dialog after a restart, with the banner alone on open', () => {
    expect(recoveryStep(facts({ onRestart: true }))).toBe('dialog');
    expect(recoveryStep(facts({ onRestart: false }))).toBe('banner');
  });
});
