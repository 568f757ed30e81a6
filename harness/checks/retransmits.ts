/**
 * The one TCP retransmission rule of every TCP check: a transfer of `bytes`
 * may lose fewer than `retransmitBound(bytes)` segments. Lost is what the
 * sender retransmitted (`TcpRetransSegs`, or TCP_INFO's total_retrans) less
 * what the receiver proved it already had (DSACK: `TcpExtTCPDSACKRecvSegs`,
 * TCP_INFO's dsack_dups): a retransmission answered by a DSACK repaired
 * reordering, not loss (veth reorders across CPUs: on this machine 2734 of
 * 2766 retransmissions of a clean veth run were DSACKed). DSACK undercounts
 * (one block per ACK; late ones miss the count), so where the receiving
 * socket's own count of data segments is known (tcpi_data_segs_in counts
 * every copy that reached it, duplicates too), lost is exactly what the
 * sender put out (tcpi_data_segs_out) and the receiver never got: a
 * retransmission whose original arrived is not a loss, whatever timer sent it,
 * and a segment that never arrived is a fault however few, retransmitted or
 * not (the bound is for loss only inferred from retransmissions); and a receiver that got more than the sender put out got copies the path
 * made, a fault whatever the loss.
 * Pure: counters in, judgement out; the bound and the counters go into the evidence.
 */
import { NicmatrixError } from '../codec/errors.js';

const MiB = 1 << 20;

/** The kernel's drivers/net/hw/tso.py sends 4 MiB and fails at 10 retransmissions (`ksft_lt(retrans, 10)`). */
export const TSO_PY_BYTES = 4 * MiB;
export const TSO_PY_FAILS_AT = 10;

/** The sender's counters that say why it retransmitted (evidence only: TcpRetransSegs less DSACKed segments is judged). */
export const RETRANS_DETAIL_COUNTERS = [
  'TcpOutSegs',
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
  /** Segments the receiving side's own counters say it dropped (its queues overflowed): lost, but not by the device. */
  receiverDropSegs?: number;
  /** Data segments the sender put out and the receiving socket got, both counting every copy (TCP_INFO data_segs_out/in). */
  segments?: { sent: number; received: number };
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
  /** Both sockets' counts, when known. */
  segments?: { sent: number; received: number };
  /** Data segments the receiving socket got beyond what the sender put out (a duplicating path), when both counts are known. */
  copies?: number;
  /** Data segments sent that never reached the receiving socket, when both counts are known. */
  wireLost?: number;
  /** wireLost when both counts are known, else found - spurious: the segments the transfer lost. */
  lost: number;
  /** Of the lost, those the receiving side's counters account for: the harness's capacity, reported, not judged. */
  atReceiver: number;
  /** lost - atReceiver: what the bound judges. */
  deviceLost: number;
  bytes: number;
  detail: Record<string, number>;
  message: string;
}

function bytesText(n: number): string {
  return n >= MiB ? `${n} bytes (${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB)` : `${n} bytes`;
}

/** On a failure, what the receiving socket's own count said, or that there was none to say it. */
function segmentsText(s: RetransInput['segments']): string {
  if (!s) return '; no count from the receiving socket';
  return `; the receiving socket got ${s.received} of the ${s.sent} data segments sent`;
}

function detailText(detail: Record<string, number>): string {
  const parts = Object.entries(detail)
    .filter(([k, v]) => v !== 0 && k !== 'TcpOutSegs')
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
  const wireLost = segmentsLost(input.segments);
  const unrepaired = retransSegs - spurious;
  // Both counts make the loss exact: what the sender put out and the receiving socket never got, retransmitted or not
  // (a device that dropped 3 of 103 segments left no retransmission in the counters, and the stream still arrived whole).
  const lost = wireLost === undefined ? unrepaired : wireLost;
  const atReceiver = Math.min(lost, Math.max(0, Math.floor(input.receiverDropSegs ?? 0)));
  const deviceLost = lost - atReceiver;
  const detail = { ...(input.detail ?? {}) };
  const what = input.what ? `${input.what}: ` : '';
  const why = [
    ...(spurious > 0 ? [`${spurious} of ${retransSegs} retransmissions DSACKed as duplicates`] : []),
    ...(wireLost !== undefined && wireLost < unrepaired
      ? [`the receiving socket got ${input.segments!.received} of the ${input.segments!.sent} data segments sent: ${wireLost} missing`]
      : []),
    ...(atReceiver > 0 ? [`${atReceiver} more lost in the receiver's own queues, per its counters: the harness's capacity`] : []),
  ];
  const note = why.length > 0 ? ` (${why.join('; ')})` : '';
  // Every copy of a data segment the sender put out is in its data_segs_out: more at the receiver were made on the way.
  const copies = input.segments && input.segments.received > input.segments.sent ? input.segments.received - input.segments.sent : 0;
  // With both sockets' counts the loss is exact, not inferred from retransmissions: then no segment may be lost at all.
  const exact = wireLost !== undefined;
  const withinBound = exact ? deviceLost === 0 : deviceLost < bound;
  const ok = withinBound && copies === 0;
  const copyText =
    copies > 0
      ? `; the receiving socket got ${input.segments!.received} data segments, ${copies} more than the ${input.segments!.sent} the sender put out: copies made on the way (a cable never duplicates a frame)`
      : '';
  const message = withinBound
    ? `${what}${deviceLost} TCP segment(s) lost over ${bytesText(bytes)}${note}, below the bound of ${bound}${copyText}`
    : exact
      ? `${what}${deviceLost} TCP data segment(s) the sender put out never reached the receiving socket (it got ${input.segments!.received} of ${input.segments!.sent}; ${retransSegs} retransmitted over ${bytesText(bytes)}${note})${detailText(detail)}${copyText}`
      : `${what}TCP retransmitted ${retransSegs} segment(s) over ${bytesText(bytes)}: expected fewer than ${bound} lost, found ${deviceLost}${note} (tso.py's ${TSO_PY_FAILS_AT} per 4 MiB, scaled)${segmentsText(input.segments)}${detailText(detail)}${copyText}`;
  return {
    ok,
    ...(input.segments ? { segments: input.segments } : {}),
    ...(copies > 0 ? { copies } : {}),
    bound,
    found: retransSegs,
    spurious,
    ...(wireLost !== undefined ? { wireLost } : {}),
    lost,
    atReceiver,
    deviceLost,
    bytes,
    detail,
    message,
  };
}

/**
 * Data segments that never reached the receiving socket; undefined when a
 * count is missing or the receiver got more copies than were sent (a device
 * that duplicates frames could hide its losses behind its copies).
 */
function segmentsLost(s: RetransInput['segments']): number | undefined {
  if (!s) return undefined;
  if (![s.sent, s.received].every((n) => Number.isInteger(n) && n >= 0))
    throw new NicmatrixError('INTERNAL', `judgeRetransmits: expected segment counts ≥ 0, found sent ${s.sent}, received ${s.received}`);
  return s.received > s.sent ? undefined : s.sent - s.received;
}

/** The connections' counts summed; undefined unless every one of them has both. */
export function sumSegments(conns: { segments?: { sent: number; received: number } }[]): { sent: number; received: number } | undefined {
  if (conns.length === 0 || conns.some((c) => !c.segments)) return undefined;
  return conns.reduce((a, c) => ({ sent: a.sent + c.segments!.sent, received: a.received + c.segments!.received }), {
    sent: 0,
    received: 0,
  });
}

/** Both ends' data-segment counts of one connection, when both TCP_INFOs carried them. */
export function connectionSegments(
  sender: { dataSegsOut?: number } | undefined,
  receiver: { dataSegsIn?: number } | undefined,
): { sent: number; received: number } | undefined {
  const sent = sender?.dataSegsOut;
  const received = receiver?.dataSegsIn;
  return sent !== undefined && received !== undefined ? { sent, received } : undefined;
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
    ...(j.wireLost !== undefined ? { wireLost: j.wireLost } : {}),
    ...(j.segments ? { segments: j.segments } : {}),
    ...(j.copies !== undefined ? { copies: j.copies } : {}),
    lost: j.lost,
    atReceiver: j.atReceiver,
    deviceLost: j.deviceLost,
    bound: j.bound,
    bytes: j.bytes,
    ok: j.ok,
    ...(Object.keys(j.detail).length > 0 ? { detail: j.detail } : {}),
  };
}

/** The receiver's TCP dropping segments for want of room (its socket backlog, receive queue, out-of-order queue). */
export const RECEIVER_TCP_DROPS = ['TcpExtTCPBacklogDrop', 'TcpExtTCPRcvQDrop', 'TcpExtTCPOFODrop', 'TcpExtTCPZeroWindowDrop'] as const;
/**
 * The receiving side dropping frames before its stack: the interface's ring or queue (/sys/class/net/IF/statistics),
 * and the receiving host's input backlogs (softnet_stat), where veth and tap frames wait for a CPU.
 */
export const RECEIVER_LINK_DROPS = ['rx_dropped', 'rx_missed_errors', 'rx_fifo_errors', 'softnet_dropped'] as const;

/**
 * Segments the receiving side's own counters say it dropped over a
 * transfer. A frame the receiving interface dropped may carry several
 * segments (a GSO frame on veth): each counts as the sender's segments per
 * frame (TcpOutSegs / tx_packets). Where the DUT delivers locally (veth: its
 * transmit is the peer's receive queue), its tx_dropped is the peer's queue
 * overflowing, so it counts too.
 */
export function receiverDropSegments(c: {
  peerNstat: Record<string, number>;
  peerLink: Record<string, number>;
  dutLink: Record<string, number>;
  dutNstat: Record<string, number>;
  dutDeliversLocally: boolean;
}): number {
  const frames =
    RECEIVER_LINK_DROPS.reduce((a, k) => a + Math.max(0, c.peerLink[k] ?? 0), 0) +
    (c.dutDeliversLocally ? Math.max(0, c.dutLink.tx_dropped ?? 0) : 0);
  const perFrame = Math.max(1, Math.ceil((c.dutNstat.TcpOutSegs ?? 0) / Math.max(1, c.dutLink.tx_packets ?? 0)));
  return frames * perFrame + RECEIVER_TCP_DROPS.reduce((a, k) => a + Math.max(0, c.peerNstat[k] ?? 0), 0);
}
