/**
 * What a stalled variant or a lost link means (pure): a device that stopped
 * carrying the check's traffic is a `fail` that says where; a harness that
 * lost its agent or a system tool that hung is an `error`.
 */
import type { Side } from '../../drivers/types.js';
import type { ResultRecord } from '../../matrix/record.js';
import { combineStatuses } from '../../matrix/verdict.js';
import type { Step } from './variant-dut.js';

/** Actions that only configure or read the system: when one of them hangs, the harness (a tool) is at fault, not the wire. */
const SYSTEM_ACTIONS = new Set([
  'agent.ping',
  'agent.status',
  'agent.cancel',
  'link.info',
  'ethtool.features',
  'ethtool.setFeatures',
  'ethtool.driver',
  'ethtool.stats',
  'nstat.read',
  'sysctl.set',
  'zc.probe',
  'zc.fileCreate',
  'zc.fileRemove',
]);

export interface StallFacts {
  /** The variant's whole budget. */
  budgetMs: number;
  /** The step that did not answer (in flight at the deadline, or the last one that timed out). */
  stalled?: Step;
  /** The last step that answered before it. */
  lastDone?: Step;
  /** Whether each side's agent answered a ping after the stall. */
  answers: Record<Side, boolean>;
  /** True when DUT and peer share one agent (lo). */
  sameAgent: boolean;
}

/** The step a stall happened in: the oldest call still in flight, else the last call that timed out. */
export function stalledStep(steps: readonly Step[]): { stalled?: Step; lastDone?: Step } {
  const stalled = steps.find((s) => s.endMs === undefined) ?? [...steps].reverse().find((s) => s.code === 'TIMEOUT');
  const before = stalled ? steps.filter((s) => s.n < stalled.n && s.endMs !== undefined && s.error === undefined) : steps;
  return { stalled, lastDone: before[before.length - 1] };
}

function where(s: Step): string {
  return `step ${s.n} (${s.side} ${s.action}, called at ${(s.startMs / 1000).toFixed(1)} s)`;
}

/** The verdict of a variant that ran out of time or whose agent call timed out. */
export function judgeStall(f: StallFacts): { status: 'fail' | 'error'; message: string } {
  const after = f.lastDone ? `; the last step that answered was ${where(f.lastDone)}` : '';
  const budget = `${Math.round(f.budgetMs / 1000)} s`;
  const silent = (['dut', 'peer'] as const).filter((s) => !f.answers[s]);
  if (!f.stalled)
    return {
      status: 'error',
      message: `the check did not finish within its ${budget} budget while no agent call was waiting${after}: the harness itself stalled`,
    };
  const at = `stalled at ${where(f.stalled)}`;
  if (silent.length > 0) {
    const who = f.sameAgent ? 'the agent' : silent.map((s) => `the ${s} agent`).join(' and ');
    return {
      status: 'error',
      message: `${at}${after}; ${who} no longer ${silent.length > 1 ? 'answer' : 'answers'} a ping: the harness lost its agent`,
    };
  }
  if (SYSTEM_ACTIONS.has(f.stalled.action))
    return { status: 'error', message: `${at}${after}: a system tool on the ${f.stalled.side} side did not answer, though its agent does` };
  return {
    status: 'fail',
    message: `${at}${after}: the traffic it waited for never completed within the variant's ${budget} budget, while both agents still answer: the device stopped carrying the check's traffic`,
  };
}

/** What the runner did when the link was gone after a variant. */
export interface Recovery {
  /** `guest restarted`, `interface set down and up`. */
  how: string;
  ok: boolean;
  detail?: string;
}

/**
 * A variant after which the device passed no traffic: the finding goes on
 * that variant (the device broke under its traffic), whatever it judged itself.
 */
export function linkLostFinding(
  result: ResultRecord,
  probe: { toDut: boolean; toPeer: boolean; attempts: number },
  recovery: Recovery,
): ResultRecord {
  const dirs = [!probe.toPeer && 'DUT → peer', !probe.toDut && 'peer → DUT'].filter(Boolean).join(' and ');
  const what = `after this variant the device stopped passing traffic (${dirs}: no datagram arrived in ${probe.attempts} tries); ${recovery.how}${recovery.ok ? ', which brought the link back' : ' did not bring it back'}`;
  return {
    ...result,
    status: combineStatuses([result.status, 'fail']),
    message: `${what}; the variant itself: ${result.status}: ${result.message}`,
    evidence: { ...result.evidence, linkLost: { probe, recovery, statusBefore: result.status } },
  };
}

/**
 * The guest stopped answering its agent after this variant (a kernel hang:
 * under TCG on a loaded host, soft lockups are the host's doing as often as
 * the driver's), and was restarted: kept in the evidence and the message,
 * the variant's own verdict unchanged, since nothing judged the device.
 */
export function guestLostFinding(result: ResultRecord, why: string, recovery: Recovery): ResultRecord {
  const what = `after this variant the guest stopped answering (${why}); ${recovery.how}${recovery.ok ? ' and the run went on' : ' did not bring it back'}`;
  return {
    ...result,
    message: `${result.message}; ${what}`,
    evidence: { ...result.evidence, guestLost: { why, recovery } },
  };
}
