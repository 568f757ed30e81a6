/**
 * One receive round for datagrams: UDP sockets on the DUT, a capture on the
 * DUT's interface, the peer injecting hand-made frames through AF_PACKET.
 * Good frames the DUT never saw (a wire loss) are sent again, at most twice.
 * The judging happens elsewhere (pure).
 */
import type { CapturedFrame } from '../../agent/protocol.js';
import type { IpFamily } from '../../codec/index.js';
import type { CheckContext } from '../types.js';
import { ARRIVAL_TIMEOUT_MS, captureWhile, SETTLE_MS } from '../capture-round.js';
import { decodeCapture, type WireFrame } from '../wire.js';
import { injectionSysctls, nstatSince, withSysctls } from './context.js';
import { unseenGood, type DeliveredDatagram } from './judge.js';
import type { PlannedFrame } from './plan.js';

// The same bounds as every round: the settle time also lets a wrongly delivered bad frame show up.
export { ARRIVAL_TIMEOUT_MS, SETTLE_MS } from '../capture-round.js';
/** Rounds after the first for good frames that never reached the DUT. */
export const MAX_RESENDS = 2;
/** Pause between frames sent again, so a device that overran its RX ring can drain it. */
export const RESEND_GAP_MS = 20;

export interface Receiver {
  family: IpFamily;
  addr: string;
  port: number;
}

export interface UdpRxResult {
  delivered: DeliveredDatagram[];
  captured: WireFrame[];
  /** Times each planned frame was sent. */
  sent: number[];
  counters: Record<string, number>;
  /** Frames the DUT's capture lost in its kernel buffer. */
  captureDropped: number;
}

/** Injects `planned` in the given order and collects what the DUT did with it. */
export async function udpRxRound(
  ctx: CheckContext,
  planned: readonly PlannedFrame[],
  receivers: readonly Receiver[],
): Promise<UdpRxResult> {
  const families = [...new Set(planned.map((p) => p.family))];
  return withSysctls(ctx, 'dut', injectionSysctls(ctx, families), async () => {
    const counters = await nstatSince(ctx, 'dut');
    const ids: string[] = [];
    const raw: CapturedFrame[] = [];
    const sent = planned.map(() => 0);
    let captureDropped = 0;
    try {
      for (const r of receivers) ids.push((await ctx.dut.run('dut', 'udp.recvStart', { family: r.family, addr: r.addr, port: r.port })).id);
      let batch = planned.map((p) => p.index);
      for (let round = 0; batch.length > 0 && round <= MAX_RESENDS; round++) {
        if (round > 0) ctx.log(`resending ${batch.length} good frame(s) the DUT never saw`);
        const frames = batch.map((i) => planned[i].frame.toString('base64'));
        // Resends go one frame at a time: a slow device whose RX ring overran on the burst gets
        // every chance, while a device that drops a kind of frame on purpose still drops it.
        const send =
          round === 0
            ? () => ctx.dut.run('peer', 'packet.send', { ifname: ctx.link.peer.ifname, frames })
            : async () => {
                for (const f of frames) {
                  await ctx.dut.run('peer', 'packet.send', { ifname: ctx.link.peer.ifname, frames: [f] });
                  await new Promise((res) => setTimeout(res, RESEND_GAP_MS));
                }
              };
        const got = await capturedWhile(ctx, batch.length, send);
        for (const i of batch) sent[i]++;
        raw.push(...got.frames);
        captureDropped += got.dropped;
        batch = unseenGood(planned, decodeCapture(raw));
      }
    } catch (e) {
      // No socket outlives a failed round.
      await Promise.all(ids.map((id) => ctx.dut.run('dut', 'udp.recvStop', { id, settleMs: 0 }).catch(() => undefined)));
      throw e;
    }
    const delivered = await collect(ctx, ids, receivers, planned);
    return { delivered, captured: decodeCapture(raw), sent, counters: await counters(), captureDropped };
  });
}

async function capturedWhile(
  ctx: CheckContext,
  expect: number,
  send: () => Promise<unknown>,
): Promise<{ frames: CapturedFrame[]; dropped: number }> {
  const r = await captureWhile(ctx, 'dut', expect, send);
  if (r.sendError) throw r.sendError;
  return r;
}

/** Stops the receivers, waiting for as many datagrams as frames must be delivered (a sound stack delivers them all at once). */
async function collect(
  ctx: CheckContext,
  ids: readonly string[],
  receivers: readonly Receiver[],
  planned: readonly PlannedFrame[],
): Promise<DeliveredDatagram[]> {
  // All stopped together, so one failing stop leaves no other socket open.
  const stops = await Promise.allSettled(
    ids.map((id, k) => {
      const expect = planned.filter((p) => p.family === receivers[k].family && p.expect === 'deliver').length;
      return ctx.dut.run(
        'dut',
        'udp.recvStop',
        { id, expect, settleMs: SETTLE_MS, timeoutMs: ARRIVAL_TIMEOUT_MS },
        { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
      );
    }),
  );
  const out: DeliveredDatagram[] = [];
  stops.forEach((s, k) => {
    if (s.status === 'rejected') throw s.reason;
    for (const d of s.value.datagrams)
      out.push({ family: receivers[k].family, payload: Buffer.from(d.data, 'base64'), from: d.from, port: d.port });
  });
  return out;
}
