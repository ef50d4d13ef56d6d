import { RecoveryMode } from './tokens';

/**
 * What lost kernel state calls for:
 * - `nothing`: the user said never, or the lost cells defined nothing;
 * - `resume`: the kernel died under our own restore: say so, offer Resume, no dialog;
 * - `restore`: the setting says always;
 * - `banner`: show the plan in the banner (a notebook opened on a new kernel);
 * - `dialog`: the banner and the recovery dialog (the kernel restarted under the user).
 */
export type RecoveryStep = 'nothing' | 'resume' | 'restore' | 'banner' | 'dialog';

export interface IRecoveryFacts {
  /** The setting that applies: `onRestart` after a restart, else `onOpen`. */
  mode: RecoveryMode;
  /** The notebook was live earlier in this session, so the kernel restarted under it. */
  onRestart: boolean;
  /** How many names the restore plan rebuilds. */
  lostNames: number;
  /** Our own restore was stopped by the kernel dying. */
  interrupted: boolean;
}

export function recoveryStep(facts: IRecoveryFacts): RecoveryStep {
  if (facts.mode === 'never' || facts.lostNames === 0) {
    return 'nothing';
  }
  if (facts.interrupted) {
    return 'resume';
  }
  if (facts.mode === 'always') {
    return 'restore';
  }
  return facts.onRestart ? 'dialog' : 'banner';
}
