/**
 * The one verdict order (pure). Parts of a check, variants of a cell and the
 * runner all combine verdicts with it, so a cell never reads differently from
 * the checks it was made of.
 */
import type { Status } from './record.js';

/**
 * Strongest first: a proven fault is a fact whatever else happened; a harness
 * error hides what it did not judge; a pass outranks "not offered"; a skip says nothing.
 */
export const VERDICT_ORDER: readonly Status[] = ['fail', 'error', 'pass', 'unsupported', 'skip'];

const RANK = new Map(VERDICT_ORDER.map((s, i) => [s, VERDICT_ORDER.length - i]));

/** The verdict of several sub-results or variants: fail > error > pass > unsupported > skip; nothing at all is skip. */
export function combineStatuses(statuses: Iterable<Status>): Status {
  let best: Status = 'skip';
  for (const s of statuses) if ((RANK.get(s) ?? 0) > (RANK.get(best) ?? 0)) best = s;
  return best;
}

/** A verdict that says the device is at fault (as opposed to the harness or the feature's absence). */
export function isDeviceFault(s: Status): boolean {
  return s === 'fail';
}
