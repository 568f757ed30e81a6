/** Several attempts of one variant as one result (pure): every attempt kept, a cell whose attempts disagree is flaky. */
import type { ResultRecord } from '../../matrix/record.js';
import { combineStatuses } from '../../matrix/verdict.js';
import { NicmatrixError } from '../codec/errors.js';

/**
 * The cell's verdict is the one verdict order over its attempts (a fail seen
 * once stays a fail); when the attempts disagree the evidence says `flaky`
 * with the pass count, like a failure whose retry passed.
 */
export function combineAttempts(attempts: readonly ResultRecord[]): ResultRecord {
  const [first] = attempts;
  if (first === undefined) throw new NicmatrixError('INTERNAL', 'combineAttempts: expected at least one attempt, found none');
  if (attempts.length === 1) return first;
  const status = combineStatuses(attempts.map((a) => a.status));
  const shown = attempts.find((a) => a.status === status) ?? first;
  const passes = attempts.filter((a) => a.status === 'pass').length;
  const flaky = new Set(attempts.map((a) => a.status)).size > 1;
  return {
    ...shown,
    status,
    durationMs: attempts.reduce((s, a) => s + a.durationMs, 0),
    message: flaky ? `flaky: ${passes} of ${attempts.length} attempts passed; ${shown.message}` : shown.message,
    evidence: {
      ...shown.evidence,
      attempts: attempts.map((a) => ({ status: a.status, durationMs: a.durationMs, message: a.message, seed: a.evidence.seed })),
      ...(flaky ? { flaky: { passes, attempts: attempts.length } } : {}),
    },
  };
}

/** Whether one more attempt is due: `repeat` attempts in all, then up to `retryFailed` more while the last one failed. */
export function wantsAnotherAttempt(attempts: readonly ResultRecord[], repeat: number, retryFailed: number): boolean {
  if (attempts.length < repeat) return true;
  const last = attempts[attempts.length - 1];
  // No attempt and none due (repeat 0): nothing failed to retry.
  if (last === undefined) return false;
  return (last.status === 'fail' || last.status === 'error') && attempts.length < repeat + retryFailed;
}
