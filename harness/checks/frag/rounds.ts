/**
 * Fragment rounds (I/O): the peer injects crafted fragments toward a socket
 * on the DUT, or one side's socket sends large datagrams the kernel fragments
 * to the other side's socket. The judging happens elsewhere (pure).
 */
import type { Side } from '../../../drivers/types.js';
import type { IpFamily } from '../../codec/index.js';
import type { CheckContext } from '../types.js';
import { injectFrames, type Injection } from '../inject.js';
import { injectionSysctls, nstatSince, withSysctls } from '../rx-csum/context.js';
import type { DeliveredDatagram } from '../rx-csum/judge.js';
import { ARRIVAL_TIMEOUT_MS, SETTLE_MS, type Receiver } from '../rx-csum/udp-round.js';
import { countersMet, type CounterRule } from './judge.js';

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

export interface SocketRoundResult {
  delivered: DeliveredDatagram[];
  senderCounters: Record<string, number>;
  receiverCounters: Record<string, number>;
}

/** `from`'s socket sends each payload to a socket on `to`; the kernel fragments what exceeds the MTU. */
export async function socketRound(
  ctx: CheckContext,
  from: Side,
  to: Side,
  family: IpFamily,
  payloads: readonly Buffer[],
  ports: { sport: number; dport: number },
): Promise<SocketRoundResult> {
  const addr = (s: Side) => (family === 4 ? ctx.link[s].ipv4 : ctx.link[s].ipv6);
  const senderSince = await nstatSince(ctx, from);
  const receiverSince = await nstatSince(ctx, to);
  const { id } = await ctx.dut.run(to, 'udp.recvStart', { family, addr: addr(to), port: ports.dport });
  let delivered: DeliveredDatagram[];
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
        payloads: payloads.map((p) => p.toString('base64')),
      },
      { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
    );
    const res = await ctx.dut.run(
      to,
      'udp.recvStop',
      { id, expect: payloads.length, settleMs: SETTLE_MS, timeoutMs: ARRIVAL_TIMEOUT_MS },
      { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
    );
    delivered = res.datagrams.map((d) => ({ family, payload: Buffer.from(d.data, 'base64'), from: d.from, port: d.port }));
  } catch (e) {
    await stopQuietly(ctx, to, id);
    throw e;
  }
  return { delivered, senderCounters: await senderSince(), receiverCounters: await receiverSince() };
}
