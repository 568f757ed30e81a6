/**
 * I/O shared by the zc checks: addresses and ports, files on the DUT,
 * receivers on the peer, and nstat readings around a flow (the checks judge
 * checksum errors and retransmissions themselves; the runner's deltas come
 * too late for the verdict).
 */
import type { IpFamily } from '../../codec/index.js';
import { counterDelta } from '../../agent/ethtool.js';
import type { StreamReport } from '../../agent/actions/zc-recv.js';
import type { Rng } from '../../codec/random.js';
import type { CheckContext } from '../types.js';
import { decodeCapture, type WireFrame } from '../wire.js';
import type { FileLayout, StreamSpec } from '../../codec/zc/pattern.js';

export function addresses(ctx: CheckContext, family: IpFamily): { src: string; dst: string } {
  return family === 4 ? { src: ctx.link.dut.ipv4, dst: ctx.link.peer.ipv4 } : { src: ctx.link.dut.ipv6, dst: ctx.link.peer.ipv6 };
}

/** Hands out distinct peer ports from a seeded base. */
export function portSource(rng: Rng): () => number {
  let next = rng.int(20000, 40000);
  return () => next++;
}

/** Creates the files on the DUT, runs `fn`, removes them on every path. */
export async function withFiles<K extends string, T>(
  ctx: CheckContext,
  layouts: Readonly<Record<K, FileLayout>>,
  fn: (ids: Record<K, { id: string; allocatedBytes: number }>) => Promise<T>,
): Promise<T> {
  const ids: Partial<Record<K, { id: string; allocatedBytes: number }>> = {};
  const created: string[] = [];
  try {
    for (const name of Object.keys(layouts) as K[]) {
      const r = await ctx.dut.run('dut', 'zc.fileCreate', { layout: layouts[name] }, { timeoutMs: 120_000 });
      ids[name] = { id: r.id, allocatedBytes: r.allocatedBytes };
      created.push(r.id);
    }
    // The loop above set every name of layouts.
    return await fn(ids as Record<K, { id: string; allocatedBytes: number }>);
  } finally {
    for (const id of created) await ctx.dut.run('dut', 'zc.fileRemove', { id }).catch(() => undefined);
  }
}

/** A receiver on the peer, started before the DUT sends. */
export interface Receiver {
  port: number;
  /** `expectSegsIn`: the data segments the sender says it put out (TCP_INFO), waited for a little so late copies count. */
  stop(timeoutMs: number, expectSegsIn?: number): Promise<StreamReport>;
}

export async function startReceiver(
  ctx: CheckContext,
  family: IpFamily,
  port: number,
  spec: StreamSpec,
  opts: { blockSize?: number; trackMemory?: boolean } = {},
): Promise<Receiver> {
  const { dst } = addresses(ctx, family);
  const { id } = await ctx.dut.run('peer', 'zc.recvStart', {
    family,
    addr: dst,
    port,
    spec,
    blockSize: opts.blockSize,
    trackMemory: opts.trackMemory,
  });
  let report: StreamReport | undefined;
  return {
    port,
    async stop(timeoutMs, expectSegsIn) {
      report ??= await ctx.dut.run('peer', 'zc.recvStop', { id, timeoutMs, expectSegsIn }, { timeoutMs: timeoutMs + 30_000 });
      return report;
    },
  };
}

/** Runs `fn` with receivers stopped on every path (a stopped receiver is stopped again harmlessly). */
export async function withReceivers<T>(receivers: Receiver[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const r of receivers) await r.stop(0).catch(() => undefined);
  }
}

/** nstat of the DUT and (unless it shares the DUT's interface) of the peer. */
async function nstat(ctx: CheckContext): Promise<{ dut: Record<string, number>; peer: Record<string, number> }> {
  const dut = await ctx.dut.run('dut', 'nstat.read', {});
  return { dut, peer: ctx.link.sameInterface ? dut : await ctx.dut.run('peer', 'nstat.read', {}) };
}

/** Interface drop counters of the DUT's and the peer's ends. */
async function linkDrops(ctx: CheckContext): Promise<{ dut: Record<string, number>; peer: Record<string, number> }> {
  const dut = await ctx.dut.run('dut', 'zc.linkDrops', { ifname: ctx.link.dut.ifname });
  return { dut, peer: ctx.link.sameInterface ? dut : await ctx.dut.run('peer', 'zc.linkDrops', { ifname: ctx.link.peer.ifname }) };
}

/** Counter deltas over a transfer: nstat of both ends, and both interfaces' drop counters. */
export interface Counted<T> {
  value: T;
  dut: Record<string, number>;
  peer: Record<string, number>;
  dutLink: Record<string, number>;
  peerLink: Record<string, number>;
}

/** Runs `fn` and returns its result with the DUT's and peer's nstat and interface-drop deltas over it. */
export async function counting<T>(ctx: CheckContext, fn: () => Promise<T>): Promise<Counted<T>> {
  const [before, linksBefore] = [await nstat(ctx), await linkDrops(ctx)];
  const value = await fn();
  const [after, linksAfter] = [await nstat(ctx), await linkDrops(ctx)];
  return {
    value,
    dut: counterDelta(before.dut, after.dut),
    peer: counterDelta(before.peer, after.peer),
    dutLink: counterDelta(linksBefore.dut, linksAfter.dut),
    peerLink: counterDelta(linksBefore.peer, linksAfter.peer),
  };
}

/** Drivers whose transmit hands the frame to a local socket's receive path (the loopback device is one too). */
export const LOCAL_DELIVERY_DRIVERS = new Set(['veth', 'netkit', 'tun']);

/** The DUT's driver name, and which local device it is when its frames go to a local receive path. */
export async function deliveryOf(ctx: CheckContext): Promise<{ driver?: string; localDelivery?: string }> {
  const driver = await ctx.dut.run('dut', 'ethtool.driver', { ifname: ctx.link.dut.ifname }).then(
    (d) => d.name,
    () => undefined,
  );
  if (ctx.link.sameInterface) return { driver, localDelivery: 'the loopback device' };
  return { driver, localDelivery: driver && LOCAL_DELIVERY_DRIVERS.has(driver) ? `the ${driver} driver` : undefined };
}

/** Faults of a stream report besides its bytes: never accepted, never ended, failed on the peer. */
export function connectionFaults(what: string, r: StreamReport, waitedMs: number): string[] {
  const out: string[] = [];
  if (!r.accepted) out.push(`${what}: the connection never reached the peer`);
  else if (!r.eof) out.push(`${what}: stall: the stream did not end within ${Math.round(waitedMs / 1000)} s`);
  if (r.error) out.push(`${what}: the peer's receive failed: ${r.error}`);
  return out;
}

/** Runs `fn` while the peer captures on its interface; the frames the peer received (its own left out), decoded. */
export async function withPeerCapture<T>(
  ctx: CheckContext,
  fn: () => Promise<T>,
): Promise<{ value: T; frames: WireFrame[]; dropped: number }> {
  const { id } = await ctx.dut.run('peer', 'capture.start', { ifname: ctx.link.peer.ifname });
  let value: T;
  try {
    value = await fn();
  } catch (e) {
    await ctx.dut.run('peer', 'capture.stop', { id, settleMs: 0 }).catch(() => undefined);
    throw e;
  }
  // The receiver already saw the stream end, so every frame is in: a short settle only.
  const r = await ctx.dut.run('peer', 'capture.stop', { id, settleMs: 100, ignoreOutgoing: true }, { timeoutMs: 60_000 });
  return { value, frames: decodeCapture(r.frames), dropped: r.dropped };
}
