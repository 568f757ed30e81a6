/**
 * Injection rounds (I/O): the peer sends hand-made frames toward the DUT,
 * paced to the link's rate, while the peer's egress and the DUT's ingress are
 * captured and both ends' loss counters read; frames that did not reach the
 * DUT's tap are sent again, slower. The tracing and judging are pure
 * (arrival.ts).
 */
import { parseTargetSpec } from '../../drivers/spec.js';
import { modelLinkMbps } from '../../drivers/qemu/catalogue.js';
import { counterDelta } from '../agent/ethtool.js';
import type { Side } from '../../drivers/types.js';
import { PACKET_OUTGOING } from '../sys/consts.js';
import { ARRIVAL_TIMEOUT_MS, SETTLE_MS } from './capture-round.js';
import { arrivalCounts, lossCounters, overrunCounters, traceArrivals, type FrameTrace } from './arrival.js';
import type { CheckContext } from './types.js';
import { decodeCapture, type WireFrame } from './wire.js';

/** Rounds after the first for frames that did not reach the DUT. */
export const MAX_RESENDS = 2;
/** Each resend round runs this many times slower than the one before: a device that overran its ring gets time to drain. */
export const BACKOFF = 8;
/** Resend pace where the link reports no speed (the first round then goes unpaced). */
const UNKNOWN_LINK_RESEND_MBPS = 100;
/** How long the peer's own egress capture may take to show what was handed to it. */
const PEER_EGRESS_TIMEOUT_MS = 2_000;

export interface LinkRate {
  mbps: number | null;
  /** Where the rate came from: the driver (`ethtool`), the QEMU model's part, or nowhere (unpaced). */
  source: 'ethtool' | 'catalogue' | 'none';
}

/** The DUT link's rate: what the driver reports, else the emulated part's line rate, else none. */
export async function linkRate(ctx: CheckContext): Promise<LinkRate> {
  const { speedMbps } = await ctx.dut.run('dut', 'link.stats', { ifname: ctx.link.dut.ifname, speed: true });
  if (speedMbps !== null && speedMbps > 0) return { mbps: speedMbps, source: 'ethtool' };
  const spec = parseTargetSpec(ctx.dut.spec);
  const model = spec.kind === 'qemu' ? modelLinkMbps(spec.model) : undefined;
  return model !== undefined ? { mbps: model, source: 'catalogue' } : { mbps: null, source: 'none' };
}

export interface RoundReport {
  /** Pace of the round (null: unpaced). */
  rateMbps: number | null;
  frames: number;
  leftPeer: number;
  reached: number;
  /** The DUT's receive loss counters that rose during the round. */
  dutLoss: Record<string, number>;
}

export interface Injection {
  /** Per frame: where it got to (the last round that sent it). */
  traces: FrameTrace[];
  /** Times each frame was handed to the peer. */
  sent: number[];
  /** Every frame the DUT's tap received, all rounds. */
  dutIn: WireFrame[];
  rate: LinkRate;
  rounds: RoundReport[];
  /** Loss counters that rose over the whole injection: the DUT's receive side, the peer's transmit side. */
  dutLoss: Record<string, number>;
  peerLoss: Record<string, number>;
  captureDropped: { dut: number; peer: number };
}

/** A side's driver (`ethtool -S`) and link (`ip -s -s link`, prefixed `link.`) counters. */
export async function sideCounters(ctx: CheckContext, side: Side): Promise<Record<string, number>> {
  const ifname = ctx.link[side].ifname;
  const [driver, link] = await Promise.all([ctx.dut.run(side, 'ethtool.stats', { ifname }), ctx.dut.run(side, 'link.stats', { ifname })]);
  return { ...driver, ...Object.fromEntries(Object.entries(link.counters).map(([k, v]) => [`link.${k}`, v])) };
}

function add(into: Record<string, number>, more: Record<string, number>): void {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
}

/**
 * With frames that need not arrive among those sent, the DUT's capture also ends after this long without a new frame:
 * the peer had finished sending, and a sound device delivers what it keeps within milliseconds.
 */
const OPTIONAL_QUIET_MS = 1500;

/**
 * Sends `frames` from the peer and proves which reached the DUT's tap. Only
 * frames `must(i)` holds for are sent again when they did not arrive.
 */
export async function injectFrames(
  ctx: CheckContext,
  frames: readonly Buffer[],
  must: (i: number) => boolean = () => true,
): Promise<Injection> {
  const rate = await linkRate(ctx);
  const traces: FrameTrace[] = frames.map(() => ({ arrival: 'not-sent' }));
  const sent = frames.map(() => 0);
  const dutIn: WireFrame[] = [];
  const rounds: RoundReport[] = [];
  const dutLoss: Record<string, number> = {};
  const peerLoss: Record<string, number> = {};
  const captureDropped = { dut: 0, peer: 0 };
  let batch = frames.map((_, i) => i);
  for (let round = 0; batch.length > 0 && round <= MAX_RESENDS && !ctx.signal.aborted; round++) {
    const rateMbps = round === 0 ? rate.mbps : (rate.mbps ?? UNKNOWN_LINK_RESEND_MBPS) / BACKOFF ** round;
    if (round > 0) ctx.log(`sending ${batch.length} frame(s) the DUT's capture did not show again, at ${rateMbps} Mb/s`);
    const [dutBefore, peerBefore] = await Promise.all([sideCounters(ctx, 'dut'), sideCounters(ctx, 'peer')]);
    // Frames that need not arrive (a device's filter may rightly drop them) are not waited for to the time-out.
    const quietMs = batch.some((i) => !must(i)) ? OPTIONAL_QUIET_MS : undefined;
    const r = await captureBoth(ctx, batch.length, overrunCounters(dutBefore), quietMs, () =>
      ctx.dut.run(
        'peer',
        'packet.send',
        {
          ifname: ctx.link.peer.ifname,
          frames: batch.map((i) => frames[i]!.toString('base64')),
          // Frames the peer's own egress drops are found missing from its capture, not a reason to stop.
          refusals: 'count',
          ...(rateMbps !== null ? { rateMbps } : {}),
        },
        { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
      ),
    );
    // batch holds indexes of frames (and so of sent and traces) only.
    for (const i of batch) sent[i]!++;
    const [dutAfter, peerAfter] = await Promise.all([sideCounters(ctx, 'dut'), sideCounters(ctx, 'peer')]);
    const roundLoss = lossCounters(counterDelta(dutBefore, dutAfter), 'rx');
    add(dutLoss, roundLoss);
    add(peerLoss, lossCounters(counterDelta(peerBefore, peerAfter), 'tx'));
    captureDropped.dut += r.dutDropped;
    captureDropped.peer += r.peerDropped;
    dutIn.push(...r.dutIn);
    const t = traceArrivals({ frames: batch.map((i) => frames[i]!), ...r });
    // One trace per frame sent, in order.
    batch.forEach((i, k) => (traces[i] = t[k]!));
    const counts = arrivalCounts(t);
    rounds.push({
      rateMbps,
      frames: batch.length,
      leftPeer: batch.length - (counts['not-sent'] ?? 0) - (counts['altered-at-peer'] ?? 0),
      reached: counts.reached ?? 0,
      dutLoss: roundLoss,
    });
    batch = batch.filter((i) => traces[i]!.arrival !== 'reached' && must(i));
  }
  // Decoded again as one capture, so frame indexes in evidence are unique.
  return { traces, sent, dutIn: decodeCapture(dutIn.map((f) => f.raw)), rate, rounds, dutLoss, peerLoss, captureDropped };
}

/** Runs `send` while the peer's egress and the DUT's ingress are captured. */
async function captureBoth(
  ctx: CheckContext,
  expect: number,
  dutOverruns: Record<string, number>,
  quietMs: number | undefined,
  send: () => Promise<unknown>,
): Promise<{ peerOut: WireFrame[]; dutIn: WireFrame[]; peerDropped: number; dutDropped: number }> {
  const { id: dutCap } = await ctx.dut.run('dut', 'capture.start', { ifname: ctx.link.dut.ifname });
  let peerCap: string | undefined;
  try {
    peerCap = (await ctx.dut.run('peer', 'capture.start', { ifname: ctx.link.peer.ifname })).id;
    await send();
  } catch (e) {
    await Promise.all([
      ctx.dut.run('dut', 'capture.stop', { id: dutCap, settleMs: 0 }).catch(() => undefined),
      peerCap ? ctx.dut.run('peer', 'capture.stop', { id: peerCap, settleMs: 0 }).catch(() => undefined) : undefined,
    ]);
    throw e;
  }
  // The peer's own egress shows at once; on a shared interface (lo) its capture also holds the incoming copies.
  const peer = await ctx.dut.run(
    'peer',
    'capture.stop',
    { id: peerCap, expect: ctx.link.sameInterface ? 2 * expect : expect, settleMs: 0, timeoutMs: PEER_EGRESS_TIMEOUT_MS },
    { timeoutMs: PEER_EGRESS_TIMEOUT_MS + 30_000 },
  );
  const peerOut = decodeCapture(peer.frames.filter((f) => f.pkttype === PACKET_OUTGOING));
  // Wait at the DUT for as many frames as left the peer toward it (frames lost before the wire will not come).
  const toDut = peerOut.filter((f) => f.parsed.eth?.dst.toLowerCase() === ctx.link.dut.mac.toLowerCase()).length;
  const dut = await ctx.dut.run(
    'dut',
    'capture.stop',
    {
      id: dutCap,
      expect: toDut,
      settleMs: SETTLE_MS,
      timeoutMs: ARRIVAL_TIMEOUT_MS,
      ignoreOutgoing: true,
      ...(quietMs !== undefined ? { quietMs } : {}),
      // Frames the DUT's receive-overrun counters count will not come: the wait ends on them, not on the time-out.
      ...(Object.keys(dutOverruns).length > 0 ? { dropsFrom: { ifname: ctx.link.dut.ifname, before: dutOverruns } } : {}),
    },
    { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
  );
  if (dut.dropped > 0) ctx.log(`DUT capture: the kernel dropped ${dut.dropped} frame(s)`);
  return { peerOut, dutIn: decodeCapture(dut.frames), peerDropped: peer.dropped, dutDropped: dut.dropped };
}

/** Every frame accounted for, for evidence: sent, left the peer, reached the DUT, delivered; the pace and both ends' loss counters. */
export function injectionAccounting(inj: Injection, delivered: number): Record<string, unknown> {
  const counts = arrivalCounts(inj.traces);
  return {
    frames: inj.traces.length,
    sends: inj.sent.reduce((a, b) => a + b, 0),
    reached: counts.reached ?? 0,
    delivered,
    arrivals: counts,
    rateMbps: inj.rate.mbps,
    rateSource: inj.rate.source,
    rounds: inj.rounds,
    dutLoss: inj.dutLoss,
    peerLoss: inj.peerLoss,
    captureDropped: inj.captureDropped,
  };
}
