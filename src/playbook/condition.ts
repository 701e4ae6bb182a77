/**
 * Step conditions (`when:`). Deliberately tiny: a condition names an outcome, it does not
 * compute one, so it stays readable at 3 a.m. and cannot run code.
 *
 *   always                      run even after an earlier failure
 *   succeeded                   every earlier step succeeded (stricter than no `when`, which
 *                               runs until the run has failed: a continueOnError failure counts)
 *   failed                      an earlier step failed (with continueOnError)
 *   steps.NAME.succeeded|failed|skipped
 */

/** A parsed condition. */
export type Condition =
  | { kind: 'always' }
  | { kind: 'succeeded' }
  | { kind: 'failed' }
  | { kind: 'step'; step: string; outcome: 'succeeded' | 'failed' | 'skipped'; negate: boolean };

const STEP_FORM = /^(!?)\s*steps\.([A-Za-z][A-Za-z0-9_-]*)\.(succeeded|failed|skipped)$/;

/** Parses a condition; throws an Error whose message says which forms exist. */
export function parseCondition(text: string): Condition {
  const t = text.trim();
  if (t === 'always' || t === 'succeeded' || t === 'failed') return { kind: t };
  const m = STEP_FORM.exec(t);
  if (m) return { kind: 'step', negate: m[1] === '!', step: m[2] as string, outcome: m[3] as 'succeeded' | 'failed' | 'skipped' };
  throw new Error(`"${text}" is not a condition: write always, succeeded, failed, or steps.NAME.succeeded|failed|skipped (optionally with a leading "!")`);
}
