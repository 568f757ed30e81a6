/**
 * One receive round for datagrams: UDP sockets on the DUT, the peer injecting
 * hand-made frames through AF_PACKET, paced to the link, with both ends
 * captured (injection.ts): frames the DUT's tap did not show are sent again,
 * slower. The judging happens elsewhere (pure).
 */
import type { IpFamily } from '../../codec/index.js';
import { ARRIVAL_TIMEOUT_MS, SETTLE_MS } from '../capture-round.js';
import { injectFrames, type Injection } from '../inject.js';
import type { CheckContext } from '../types.js';
import { injectionSysctls, nstatSettledSince, withSysctls } from '../context.js';
import type { DeliveredDatagram } from '../delivered.js';
import type { PlannedFrame } from './plan.js';

// The same bounds as every round: the settle time also lets a wrongly delivered bad frame show up.
export { ARRIVAL_TIMEOUT_MS, SETTLE_MS } from '../capture-round.js';

export interface Receiver {
  family: IpFamily;
  addr: string;
  port: number;
}

export interface UdpRxResult {
  delivered: DeliveredDatagram[];
  injection: Injection;
  counters: Record<string, number>;
}

/** Injects `planned` in the given order and collects what the DUT did with it; `must(i)`: frame i has to reach the DUT's tap. */
export async function udpRxRound(
  ctx: CheckContext,
  planned: readonly PlannedFrame[],
  receivers: readonly Receiver[],
  must: (i: number) => boolean = () => true,
): Promise<UdpRxResult> {
  const families = [...new Set(planned.map((p) => p.family))];
  return withSysctls(ctx, 'dut', injectionSysctls(ctx, families), async () => {
    const counters = await nstatSettledSince(ctx, 'dut');
    const opened: { id: string; receiver: Receiver }[] = [];
    let injection: Injection;
    try {
      for (const r of receivers)
        opened.push({ id: (await ctx.dut.run('dut', 'udp.recvStart', { family: r.family, addr: r.addr, port: r.port })).id, receiver: r });
      injection = await injectFrames(
        ctx,
        planned.map((p) => p.frame),
        must,
      );
    } catch (e) {
      // No socket outlives a failed round.
      await Promise.all(opened.map(({ id }) => ctx.dut.run('dut', 'udp.recvStop', { id, settleMs: 0 }).catch(() => undefined)));
      throw e;
    }
    const delivered = await collect(ctx, opened, planned);
    return { delivered, injection, counters: await counters() };
  });
}

/** Stops the receivers, waiting for as many datagrams as frames must be delivered (a sound stack delivers them all at once). */
async function collect(
  ctx: CheckContext,
  opened: readonly { id: string; receiver: Receiver }[],
  planned: readonly PlannedFrame[],
): Promise<DeliveredDatagram[]> {
  // All stopped together, so one failing stop leaves no other socket open.
  const stops = await Promise.allSettled(
    opened.map(({ id, receiver }) => {
      const expect = planned.filter((p) => p.family === receiver.family && p.expect === 'deliver').length;
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
    // allSettled answers in the order of opened.
    const { family } = opened[k]!.receiver;
    for (const d of s.value.datagrams) out.push({ family, payload: Buffer.from(d.data, 'base64'), from: d.from, port: d.port });
  });
  return out;
}
