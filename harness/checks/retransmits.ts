/**
 * The one TCP retransmission rule of every TCP check: a transfer of `bytes`
 * may lose fewer than `retransmitBound(bytes)` segments. Lost is what the
 * sender retransmitted (`TcpRetransSegs`, or TCP_INFO's total_retrans) less
 * what the receiver proved it already had (DSACK: `TcpExtTCPDSACKRecvSegs`,
 * TCP_INFO's dsack_dups): a retransmission answered by a DSACK repaired
 * reordering, not loss (veth reorders across CPUs: on this machine 2734 of
 * 2766 retransmissions of a clean veth run were DSACKed). Pure: counters in,
 * judgement out; the bound and the counters go into the evidence.
 */
import { NicmatrixError } from '../errors.js';

const MiB = 1 << 20;

/** The kernel's drivers/net/hw/tso.py sends 4 MiB and fails at 10 retransmissions (`ksft_lt(retrans, 10)`). */
export const TSO_PY_BYTES = 4 * MiB;
export const TSO_PY_FAILS_AT = 10;

/** The sender's counters that say why it retransmitted (evidence only: TcpRetransSegs less DSACKed segments is judged). */
export const RETRANS_DETAIL_COUNTERS = [
  'TcpExtTCPDSACKRecvSegs',
  'TcpExtTCPSACKReorder',
  'TcpExtTCPLostRetransmit',
  'TcpExtTCPFastRetrans',
  'TcpExtTCPSlowStartRetrans',
  'TcpExtTCPTimeouts',
  'TcpExtTCPLossProbes',
  'TcpExtTCPLossProbeRecovery',
  'TcpExtTCPSpuriousRTOs',
  'TcpExtTCPSynRetrans',
  'TcpExtTCPRetransFail',
  'TcpExtTCPAbortOnTimeout',
] as const;

/**
 * First failing retransmission count for a transfer of `bytes`: tso.py's 10 per 4 MiB scaled linearly with the
 * bytes (a loss rate, not a count), rounded up, never below tso.py's own 10 so short transfers keep its tolerance.
 */
export function retransmitBound(bytes: number): number {
  return Math.max(TSO_PY_FAILS_AT, Math.ceil((TSO_PY_FAILS_AT * bytes) / TSO_PY_BYTES));
}

export interface RetransInput {
  /** Payload bytes the sender handed to TCP during the counted window. */
  bytes: number;
  /** `TcpRetransSegs` delta of the sender over that window. */
  retransSegs: number;
  /** Of them, segments the receiver reported as duplicates (DSACK): not lost. */
  spuriousSegs?: number;
  /** First failing count; defaults to `retransmitBound(bytes)`. */
  bound?: number;
  /** What was sent, for the message (e.g. "sendfile cases"). */
  what?: string;
  /** Other sender counters over the window (see RETRANS_DETAIL_COUNTERS), kept as evidence. */
  detail?: Record<string, number>;
}

export interface RetransJudgement {
  ok: boolean;
  /** Fails at this many lost segments or more. */
  bound: number;
  /** Segments retransmitted. */
  found: number;
  /** Of them, proven duplicates (DSACK). */
  spurious: number;
  /** found - spurious: the segments the transfer lost; what the bound judges. */
  lost: number;
  bytes: number;
  detail: Record<string, number>;
  message: string;
}

function bytesText(n: number): string {
  return n >= MiB ? `${n} bytes (${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB)` : `${n} bytes`;
}

function detailText(detail: Record<string, number>): string {
  const parts = Object.entries(detail)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k.replace(/^TcpExt/, '')} ${v}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** Judges one TCP transfer's retransmissions against its bound. */
export function judgeRetransmits(input: RetransInput): RetransJudgement {
  const { bytes, retransSegs } = input;
  if (!Number.isFinite(bytes) || bytes < 0)
    throw new NicmatrixError('INTERNAL', `judgeRetransmits: expected a byte count ≥ 0, found ${bytes}`);
  if (!Number.isInteger(retransSegs) || retransSegs < 0)
    throw new NicmatrixError('INTERNAL', `judgeRetransmits: expected a retransmission count ≥ 0, found ${retransSegs}`);
  const bound = input.bound ?? retransmitBound(bytes);
  if (!Number.isInteger(bound) || bound < 1)
    throw new NicmatrixError('INTERNAL', `judgeRetransmits: expected a bound ≥ 1, found ${input.bound}`);
  const spurious = Math.min(retransSegs, input.spuriousSegs ?? 0);
  if (!Number.isInteger(spurious) || spurious < 0)
    throw new NicmatrixError('INTERNAL', `judgeRetransmits: expected a DSACKed segment count ≥ 0, found ${input.spuriousSegs}`);
  const lost = retransSegs - spurious;
  const detail = { ...(input.detail ?? {}) };
  const what = input.what ? `${input.what}: ` : '';
  const dup = spurious > 0 ? ` (${retransSegs} retransmitted, ${spurious} of them DSACKed as duplicates)` : '';
  const ok = lost < bound;
  const message = ok
    ? `${what}${lost} TCP segment(s) lost over ${bytesText(bytes)}${dup}, below the bound of ${bound}`
    : `${what}TCP lost ${lost} segment(s) over ${bytesText(bytes)}${dup}: expected fewer than ${bound} (tso.py's ${TSO_PY_FAILS_AT} per 4 MiB, scaled)${detailText(detail)}`;
  return { ok, bound, found: retransSegs, spurious, lost, bytes, detail, message };
}

/**
 * The sender's retransmission counters over a window, from two absolute nstat
 * readings (`nstat -a -z`): undefined when TcpRetransSegs is in neither, so a
 * missing counter is never read as zero retransmissions.
 */
export function retransFromNstat(
  before: Record<string, number>,
  after: Record<string, number>,
): { retransSegs: number; spuriousSegs: number; detail: Record<string, number> } | undefined {
  if (after.TcpRetransSegs === undefined || before.TcpRetransSegs === undefined) return undefined;
  const detail: Record<string, number> = {};
  for (const k of RETRANS_DETAIL_COUNTERS) if (after[k] !== undefined) detail[k] = after[k] - (before[k] ?? 0);
  return { retransSegs: after.TcpRetransSegs - before.TcpRetransSegs, spuriousSegs: detail.TcpExtTCPDSACKRecvSegs ?? 0, detail };
}

/** The same from a delta map (zeros left out, as `counterDelta` gives): absent counters read as no change. */
export function retransFromDelta(delta: Record<string, number>): {
  retransSegs: number;
  spuriousSegs: number;
  detail: Record<string, number>;
} {
  const detail: Record<string, number> = {};
  for (const k of RETRANS_DETAIL_COUNTERS) if (delta[k] !== undefined) detail[k] = delta[k];
  return { retransSegs: delta.TcpRetransSegs ?? 0, spuriousSegs: delta.TcpExtTCPDSACKRecvSegs ?? 0, detail };
}

/** Evidence of a judgement, one shape for every check: `evidence.retransmits`. */
export function retransEvidence(j: RetransJudgement): Record<string, unknown> {
  return {
    found: j.found,
    spurious: j.spurious,
    lost: j.lost,
    bound: j.bound,
    bytes: j.bytes,
    ok: j.ok,
    ...(Object.keys(j.detail).length > 0 ? { detail: j.detail } : {}),
  };
}
