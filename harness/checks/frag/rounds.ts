/**
 * Fragment rounds (I/O): the peer injects crafted fragments toward a socket
 * on the DUT, or one side's socket sends large datagrams the kernel fragments
 * to the other side's socket. The judging happens elsewhere (pure).
 */
import { parseTargetSpec } from '../../../drivers/spec.js';
import type { Side } from '../../../drivers/types.js';
import type { IpFamily } from '../../codec/index.js';
import type { CheckContext } from '../types.js';
import { counterDelta } from '../../agent/ethtool.js';
import { PACKET_OUTGOING } from '../../sys/consts.js';
import { lossCounters } from '../arrival.js';
import { BACKOFF, injectFrames, linkRate, MAX_RESENDS, sideCounters, type Injection, type LinkRate } from '../inject.js';
import { decodeCapture, type WireFrame } from '../wire.js';
import { injectionSysctls, nstatSince, withSysctls } from '../context.js';
import type { DeliveredDatagram } from '../delivered.js';
import { ARRIVAL_TIMEOUT_MS, SETTLE_MS, type Receiver } from '../rx-csum/udp-round.js';
import { countersMet, incompleteDatagrams, type CounterRule } from './judge.js';

/** How often a timer-driven counter (reassembly timeout) is read while waiting for it. */
const COUNTER_POLL_MS = 250;

export interface InjectOptions {
  /** More sysctls for the DUT's context during the round (the reassembly time); restored after. */
  sysctls?: Record<string, string>;
  /** Before collecting, wait until these counters rose (at most `timeoutMs`). */
  waitFor?: { rules: CounterRule[]; timeoutMs: number };
}

export interface InjectResult {
  delivered: DeliveredDatagram[];
  counters: Record<string, number>;
  /** Every counter the DUT's kernel has (to tell a missing counter from one that did not move). */
  known: Set<string>;
  /** Where every fragment got to, paced to the link and sent again slower when it did not arrive. */
  injection: Injection;
  /** The sysctls' values before the round. */
  previous: Record<string, string>;
}

async function stopQuietly(ctx: CheckContext, side: Side, id: string): Promise<void> {
  await ctx.dut.run(side, 'udp.recvStop', { id, settleMs: 0 }).catch(() => undefined);
}

export async function injectRound(
  ctx: CheckContext,
  frames: readonly Buffer[],
  r: Receiver,
  expectDatagrams: number,
  opts: InjectOptions = {},
): Promise<InjectResult> {
  const settings = { ...injectionSysctls(ctx, [r.family]), ...opts.sysctls };
  return withSysctls(ctx, 'dut', settings, async (previous) => {
    const known = new Set(Object.keys(await ctx.dut.run('dut', 'nstat.read', {})));
    const counters = await nstatSince(ctx, 'dut');
    const { id } = await ctx.dut.run('dut', 'udp.recvStart', { family: r.family, addr: r.addr, port: r.port });
    let delivered: DeliveredDatagram[];
    let injection: Injection;
    try {
      injection = await injectFrames(ctx, frames);
      if (opts.waitFor) await waitCounters(ctx, opts.waitFor.rules, opts.waitFor.timeoutMs, counters, known);
      const wait =
        expectDatagrams > 0 ? { expect: expectDatagrams, settleMs: SETTLE_MS, timeoutMs: ARRIVAL_TIMEOUT_MS } : { settleMs: SETTLE_MS };
      const res = await ctx.dut.run('dut', 'udp.recvStop', { id, ...wait }, { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 });
      delivered = res.datagrams.map((d) => ({ family: r.family, payload: Buffer.from(d.data, 'base64'), from: d.from, port: d.port }));
    } catch (e) {
      await stopQuietly(ctx, 'dut', id);
      throw e;
    }
    return { delivered, counters: await counters(), known, injection, previous };
  });
}

/** Reads the counters until the rules are met or `timeoutMs` passed; the judge decides on what was reached. */
async function waitCounters(
  ctx: CheckContext,
  rules: CounterRule[],
  timeoutMs: number,
  since: () => Promise<Record<string, number>>,
  known: Set<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!countersMet(rules, await since(), known) && Date.now() < deadline && !ctx.signal.aborted) {
    await new Promise((res) => setTimeout(res, COUNTER_POLL_MS));
  }
}

export interface SocketRoundReport {
  rateMbps: number | null;
  datagrams: number;
  delivered: number;
  /** Frames of the flow on the sender's egress tap and on the receiver's tap. */
  egress: number;
  ingress: number;
  /** Datagrams whose fragments the sender's egress does not hold in full. */
  incomplete: number;
}

export interface SocketRoundResult {
  delivered: DeliveredDatagram[];
  senderCounters: Record<string, number>;
  receiverCounters: Record<string, number>;
  /** Frames of the flow the sender's tap saw leave, and the receiver's tap saw arrive (every round). */
  egress: WireFrame[];
  ingress: WireFrame[];
  captureDropped: { sender: number; receiver: number };
  /** Loss counters that rose: the sender's transmit side, the receiver's receive side. */
  senderLoss: Record<string, number>;
  receiverLoss: Record<string, number>;
  rate: LinkRate;
  rounds: SocketRoundReport[];
}

/**
 * `from`'s socket sends each payload to a socket on `to`, paced to the link;
 * the kernel fragments what exceeds the MTU. Both ends are captured, and the
 * datagrams that were not delivered are sent again, slower.
 */
export async function socketRound(
  ctx: CheckContext,
  from: Side,
  to: Side,
  family: IpFamily,
  payloads: readonly Buffer[],
  ports: { sport: number; dport: number },
): Promise<SocketRoundResult> {
  const addr = (s: Side) => (family === 4 ? ctx.link[s].ipv4 : ctx.link[s].ipv6);
  const rate = await linkRate(ctx);
  const ofFlow = (f: WireFrame) => f.parsed.ip?.src === addr(from) && f.parsed.ip?.dst === addr(to);
  const senderSince = await nstatSince(ctx, from);
  const receiverSince = await nstatSince(ctx, to);
  const out: Omit<SocketRoundResult, 'senderCounters' | 'receiverCounters'> = {
    delivered: [],
    egress: [],
    ingress: [],
    captureDropped: { sender: 0, receiver: 0 },
    senderLoss: {},
    receiverLoss: {},
    rate,
    rounds: [],
  };
  let batch = payloads.map((_, i) => i);
  for (let round = 0; batch.length > 0 && round <= MAX_RESENDS && !ctx.signal.aborted; round++) {
    const rateMbps = round === 0 ? rate.mbps : (rate.mbps ?? 100) / BACKOFF ** round;
    if (round > 0) ctx.log(`sending ${batch.length} datagram(s) that were not delivered again, at ${rateMbps} Mb/s`);
    const [sBefore, rBefore] = await Promise.all([sideCounters(ctx, from), sideCounters(ctx, to)]);
    const { id } = await ctx.dut.run(to, 'udp.recvStart', { family, addr: addr(to), port: ports.dport });
    const { id: inCap } = await ctx.dut.run(to, 'capture.start', { ifname: ctx.link[to].ifname });
    const { id: outCap } = await ctx.dut.run(from, 'capture.start', { ifname: ctx.link[from].ifname });
    let got: DeliveredDatagram[];
    // Taken off only once the round is received: what the bucket still holds would be dropped with it.
    const unpace = await paceToward(ctx, from, rateMbps);
    try {
      await ctx.dut.run(
        from,
        'udp.send',
        {
          family,
          src: addr(from),
          dst: addr(to),
          sport: ports.sport,
          dport: ports.dport,
          payloads: batch.map((i) => payloads[i]!.toString('base64')),
          ...(rateMbps !== null ? { rateMbps } : {}),
        },
        { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
      );
      const res = await ctx.dut.run(
        to,
        'udp.recvStop',
        { id, expect: batch.length, settleMs: SETTLE_MS, timeoutMs: ARRIVAL_TIMEOUT_MS },
        { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
      );
      got = res.datagrams.map((d) => ({ family, payload: Buffer.from(d.data, 'base64'), from: d.from, port: d.port }));
    } catch (e) {
      await stopQuietly(ctx, to, id);
      await ctx.dut.run(to, 'capture.stop', { id: inCap, settleMs: 0 }).catch(() => undefined);
      await ctx.dut.run(from, 'capture.stop', { id: outCap, settleMs: 0 }).catch(() => undefined);
      throw e;
    } finally {
      await unpace();
    }
    const [inFrames, outFrames] = await Promise.all([
      ctx.dut.run(to, 'capture.stop', { id: inCap, settleMs: 0, ignoreOutgoing: true }),
      ctx.dut.run(from, 'capture.stop', { id: outCap, settleMs: 0 }),
    ]);
    const [sAfter, rAfter] = await Promise.all([sideCounters(ctx, from), sideCounters(ctx, to)]);
    addInto(out.senderLoss, lossCounters(counterDelta(sBefore, sAfter), 'tx'));
    addInto(out.receiverLoss, lossCounters(counterDelta(rBefore, rAfter), 'rx'));
    out.captureDropped.sender += outFrames.dropped;
    out.captureDropped.receiver += inFrames.dropped;
    const egress = decodeCapture(outFrames.frames.filter((f) => f.pkttype === PACKET_OUTGOING)).filter(ofFlow);
    const ingress = decodeCapture(inFrames.frames).filter(ofFlow);
    out.egress.push(...egress);
    out.ingress.push(...ingress);
    out.delivered.push(...got);
    out.rounds.push({
      rateMbps,
      datagrams: batch.length,
      delivered: got.length,
      egress: egress.length,
      ingress: ingress.length,
      incomplete: incompleteDatagrams(egress),
    });
    const have = new Set(got.map((d) => d.payload.toString('base64')));
    batch = batch.filter((i) => !have.has(payloads[i]!.toString('base64')));
  }
  return { ...out, senderCounters: await senderSince(), receiverCounters: await receiverSince() };
}

/**
 * Paces the peer's tap to the round's rate while the peer sends toward an
 * emulated DUT: QEMU's tap hands a datagram's fragments over back to back,
 * faster than the emulated part's link, and its ring overflows; a cable (phys:)
 * or veth needs none. Returns the undo.
 */
async function paceToward(ctx: CheckContext, from: Side, rateMbps: number | null): Promise<() => Promise<void>> {
  if (from !== 'peer' || rateMbps === null || parseTargetSpec(ctx.dut.spec).kind !== 'qemu') return async () => {};
  const ifname = ctx.link.peer.ifname;
  await ctx.dut.run('peer', 'link.pace', { ifname, rateMbps, mtu: ctx.link.peer.mtu });
  return async () => {
    await ctx.dut.run('peer', 'link.pace', { ifname, rateMbps: null });
  };
}

function addInto(into: Record<string, number>, more: Record<string, number>): void {
  for (const [k, v] of Object.entries(more)) into[k] = (into[k] ?? 0) + v;
}
