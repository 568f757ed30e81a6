/**
 * One receive round for TCP: a sink listens on the DUT, the peer's kernel
 * connects and then stays idle, and the peer injects hand-made segments into
 * that connection (each good one preceded by a corrupted copy at the same
 * sequence number), resending what the DUT did not acknowledge, inside its
 * window. The judging happens elsewhere (pure).
 */
import { createHash } from 'node:crypto';
import type { CapturedFrame } from '../../agent/protocol.js';
import { NicmatrixError } from '../../codec/errors.js';
import type { CheckContext } from '../types.js';
import { decodeCapture, type WireFrame } from '../wire.js';
import type { FrameTrace } from '../arrival.js';
import { injectFrames, linkRate, type Injection } from '../inject.js';
import { nstatSince } from '../context.js';
import { sightings, type ArrivalProof } from './judge.js';
import type { PlannedFrame } from './plan.js';
import { finFrame, nextBatch, planSegments, readAcks, readHandshake, type Handshake, type SegmentPlan, type TcpEnds } from './tcp-plan.js';
import { tcpPlannedFrames } from './tcp-judge.js';
import { ARRIVAL_TIMEOUT_MS, SETTLE_MS } from './udp-round.js';

/** Rounds without a new acknowledgement before the sender gives up (the judge then sees a short stream). */
const MAX_STALLED_ROUNDS = 5;
/** Rounds in all, whatever the progress. */
const MAX_ROUNDS = 60;
/** How long one round waits for the DUT's first ACK; a round that sees none just sends again. */
const ACK_TIMEOUT_MS = 3_000;

export interface TcpRxResult {
  ends: TcpEnds;
  hs: Handshake;
  segs: SegmentPlan[];
  planned: PlannedFrame[];
  captured: WireFrame[];
  counters: Record<string, number>;
  stream: { bytes: number; sha256: string };
  want: { bytes: number; sha256: string };
  rounds: number;
  resent: number;
  /** Where the corrupted copies got to: each one sent must have reached the DUT's tap for its drop to count. */
  arrivals: ArrivalProof;
}

/**
 * Opens the connection, streams the segments, closes. A connection the peer's
 * kernel could not open is returned as `connectError` (the DUT did not answer:
 * the device's fault, not the harness's).
 */
export async function tcpRxRound(
  ctx: CheckContext,
  ends: Omit<TcpEnds, 'sport'>,
  lengths: (maxPayload: number) => number[],
  segSeed: number,
): Promise<TcpRxResult | { connectError: unknown }> {
  const { id: listener } = await ctx.dut.run('dut', 'tcp.listen', { family: ends.family, addr: ends.dut, port: ends.dport });
  let held: string | undefined;
  let sinkClosed = false;
  try {
    let opened;
    try {
      opened = await peerCapturing(
        ctx,
        3,
        ARRIVAL_TIMEOUT_MS,
        () => ctx.dut.run('peer', 'tcp.hold', { family: ends.family, src: ends.peer, dst: ends.dut, dport: ends.dport }),
        false,
      );
    } catch (connectError) {
      return { connectError };
    }
    held = opened.value.id;
    const e: TcpEnds = { ...ends, sport: opened.value.sport };
    const hs = readHandshake(decodeCapture(opened.frames), e);
    if (typeof hs === 'string')
      throw new NicmatrixError('INTERNAL', `TCP receive: the peer's capture of the connection it opened is incomplete: ${hs}`);
    const segs = planSegments(segSeed, lengths(maxPayload(ctx, e.family, hs)));
    const planned = tcpPlannedFrames(e, hs, segs);
    const total = segs.reduce((n, s) => n + s.good.length, 0);
    const counters = await nstatSince(ctx, 'dut');
    const { id: dutCap } = await ctx.dut.run('dut', 'capture.start', { ifname: ctx.link.dut.ifname });
    // Paced to the link: a cable never delivers faster, and a slow device's ring must not overrun on the window.
    const rate = await linkRate(ctx);
    const st = { acked: 0, window: hs.window, badSent: segs.map(() => false) };
    const sends = segs.map(() => 0);
    let rounds = 0;
    for (let stalled = 0; st.acked < total && stalled < MAX_STALLED_ROUNDS && rounds < MAX_ROUNDS; rounds++) {
      const batch = nextBatch(segs, st);
      // planned is tcpPlannedFrames(segs): good segment i at i, its bad copy at segs.length + i.
      const frames = batch.map((b) => planned[b.bad ? segs.length + b.seg : b.seg]!.frame.toString('base64'));
      for (const b of batch) {
        if (b.bad) st.badSent[b.seg] = true;
        else sends[b.seg]!++;
      }
      const { frames: acks } = await peerCapturing(
        ctx,
        1,
        ACK_TIMEOUT_MS,
        () =>
          ctx.dut.run('peer', 'packet.send', {
            ifname: ctx.link.peer.ifname,
            frames,
            refusals: 'count',
            ...(rate.mbps !== null ? { rateMbps: rate.mbps } : {}),
          }),
        true,
      );
      const a = readAcks(decodeCapture(acks), e, hs, total);
      if (a && a.acked > st.acked) stalled = 0;
      else stalled++;
      if (a) Object.assign(st, { acked: Math.max(st.acked, a.acked), window: a.window });
    }
    const cap = await ctx.dut.run('dut', 'capture.stop', { id: dutCap, settleMs: SETTLE_MS, ignoreOutgoing: true });
    const captured = decodeCapture(cap.frames);
    // Corrupted copies the DUT's tap did not show prove nothing dropped: send them again (paced, both ends captured).
    const { seen } = sightings(planned, captured);
    const badOut = segs.filter((s) => st.badSent[s.index]).map((s) => segs.length + s.index);
    const unseen = badOut.filter((i) => seen[i] === 0);
    const traces: FrameTrace[] = planned.map(() => ({ arrival: 'reached' }));
    let again: Injection | undefined;
    if (unseen.length > 0) {
      again = await injectFrames(
        ctx,
        unseen.map((i) => planned[i]!.frame),
      );
      unseen.forEach((i, k) => (traces[i] = again!.traces[k]!));
      captured.push(...again.dutIn);
    }
    await ctx.dut.run('peer', 'packet.send', { ifname: ctx.link.peer.ifname, frames: [finFrame(e, hs, total).toString('base64')] });
    sinkClosed = true;
    const sink = await ctx.dut.run('dut', 'tcp.listenClose', { id: listener });
    const good = Buffer.concat(segs.map((s) => s.good));
    return {
      ends: e,
      hs,
      segs,
      planned,
      captured: decodeCapture(captured.map((f) => f.raw)),
      counters: await counters(),
      arrivals: {
        traces,
        must: badOut,
        dutLoss: again?.dutLoss ?? {},
        captureDropped: again?.captureDropped ?? { dut: cap.dropped, peer: 0 },
        peerLoss: again?.peerLoss,
      },
      stream: { bytes: sink.bytes, sha256: sink.sha256 },
      want: { bytes: good.length, sha256: createHash('sha256').update(good).digest('hex') },
      rounds,
      resent: sends.reduce((n, k) => n + Math.max(0, k - 1), 0),
    };
  } finally {
    if (!sinkClosed) await ctx.dut.run('dut', 'tcp.listenClose', { id: listener }).catch(() => undefined);
    if (held) await ctx.dut.run('peer', 'tcp.holdClose', { id: held }).catch(() => undefined);
  }
}

/** Largest payload one segment carries: the DUT's MTU less headers and the timestamp option. */
function maxPayload(ctx: CheckContext, family: 4 | 6, hs: Handshake): number {
  const mtu = Math.min(ctx.link.dut.mtu, ctx.link.peer.mtu, 9000);
  return mtu - (family === 4 ? 20 : 40) - 20 - (hs.ts ? 12 : 0);
}

/** Runs `act` while the peer captures; returns what the peer received (and sent, unless `ignoreOutgoing`). */
async function peerCapturing<T>(
  ctx: CheckContext,
  expect: number,
  timeoutMs: number,
  act: () => Promise<T>,
  ignoreOutgoing: boolean,
): Promise<{ frames: CapturedFrame[]; value: T }> {
  const { id } = await ctx.dut.run('peer', 'capture.start', { ifname: ctx.link.peer.ifname });
  let value: T;
  try {
    value = await act();
  } catch (e) {
    await ctx.dut.run('peer', 'capture.stop', { id, settleMs: 0 }).catch(() => undefined);
    throw e;
  }
  const { frames } = await ctx.dut.run(
    'peer',
    'capture.stop',
    { id, expect, settleMs: SETTLE_MS, timeoutMs, ignoreOutgoing },
    { timeoutMs: timeoutMs + 30_000 },
  );
  return { frames, value };
}
