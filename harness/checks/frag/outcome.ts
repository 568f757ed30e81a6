/** Turns a reassembly tally into a verdict, a message and evidence (pure). */
import type { Evidence } from '../../../matrix/record.js';
import { combineStatuses } from '../../../matrix/verdict.js';
import type { CheckOutcome } from '../types.js';
import type { FragFault, FragTally } from './judge.js';

/** Sizes of a case's datagrams, for messages and evidence. */
export function sizeSummary(sizes: readonly number[]): { count: number; min: number; max: number } {
  return { count: sizes.length, min: Math.min(...sizes), max: Math.max(...sizes) };
}

/** How many datagrams met each fate ("8 dropped", "2 first copy won"). */
export function fates(t: FragTally): string {
  const n = new Map<string, number>();
  for (const f of t.fate) n.set(f, (n.get(f) ?? 0) + 1);
  return [...n].map(([f, k]) => `${k} ${f}`).join(', ');
}

/**
 * `passWords` says what a pass means for this case ("delivered once, intact").
 * Faults marked `error` are the harness's (fragments it lost or altered); a
 * fault of the DUT outranks them (matrix/verdict.ts).
 */
export function fragOutcome(what: string, t: FragTally, more: FragFault[], passWords: string, evidence: Evidence): CheckOutcome {
  const faults = [...t.faults, ...more];
  const ev: Evidence = { ...evidence, datagrams: t.datagrams, delivered: t.delivered, fates: fates(t) };
  if (faults.length > 0) {
    ev.faults = faults.map((f) => ({ kind: f.kind, count: f.count, detail: f.detail, ...(f.status ? { status: f.status } : {}) }));
    const status = combineStatuses(faults.map((f) => f.status ?? 'fail'));
    return { status, message: `${what}: ${faults.map((f) => f.detail).join('; ')}`, evidence: ev };
  }
  return { status: 'pass', message: `${what}: ${t.datagrams} datagrams ${passWords} (${fates(t)})`, evidence: ev };
}
