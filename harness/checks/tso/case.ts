/** One TSO case: its connections, with the peer's GRO off, the DUT's timestamps and MTU as asked and put back. */
import type { FeatureSnapshot } from '../../../matrix/record.js';
import { describeError } from '../../codec/errors.js';
import type { IpFamily } from '../../codec/index.js';
import { createRng } from '../../codec/random.js';
import { linkReady } from '../link-ready.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { combineConnections } from './outcome.js';
import { runConnection, type ConnectionCase, type ConnectionPlan } from './round.js';

/**
 * Connections of one variant: every MSS of the issue (536, 1220, the MTU's,
 * an odd one) once, timestamps and TCP_NODELAY paired so each value of each
 * meets both values of the other.
 */
export const CONNECTION_CASES: readonly ConnectionCase[] = [
  { mss: 536, nodelay: false, timestamps: true },
  { mss: 1220, nodelay: true, timestamps: false },
  { mss: undefined, nodelay: false, timestamps: false },
  { mss: 1001, nodelay: true, timestamps: true },
];

/** Write sizes of one connection: large (several super-frames), tiny, larger than 64 KiB. */
export function plannedWrites(seed: number): number[] {
  const rng = createRng(seed);
  return [rng.int(30_000, 45_000), rng.int(1, 400), rng.int(66_000, 90_000)];
}

/** Peer receive offloads that would merge segments before its capture sees them. */
const PEER_MERGING = ['generic-receive-offload', 'large-receive-offload'];

/** Turns the peer's GRO/LRO off for `body` and puts back what was on. */
export async function withPeerMergingOff<T>(ctx: CheckContext, body: () => Promise<T>): Promise<T> {
  const ifname = ctx.link.peer.ifname;
  const before: FeatureSnapshot = await ctx.dut.run('peer', 'ethtool.features', { ifname });
  const on = PEER_MERGING.filter((n) => before[n]?.active && !before[n]?.fixed);
  const after = on.length
    ? await ctx.dut.run('peer', 'ethtool.setFeatures', { ifname, features: Object.fromEntries(on.map((n) => [n, false])) })
    : before;
  const stuck = PEER_MERGING.filter((n) => after[n]?.active);
  if (stuck.length) ctx.log(`peer ${ifname}: ${stuck.join(', ')} could not be turned off; segments may be merged before the capture`);
  try {
    return await body();
  } finally {
    if (on.length) await ctx.dut.run('peer', 'ethtool.setFeatures', { ifname, features: Object.fromEntries(on.map((n) => [n, true])) });
  }
}

/** Sets the DUT's MTU for `body` (waiting for its link: some devices reset), then puts it back. */
export async function withDutMtu<T>(ctx: CheckContext, mtu: number | undefined, body: (mtu: number) => Promise<T>): Promise<T> {
  const ifname = ctx.link.dut.ifname;
  if (mtu === undefined || mtu === ctx.link.dut.mtu) return body(ctx.link.dut.mtu);
  const { previous } = await ctx.dut.run('dut', 'link.setMtu', { ifname, mtu });
  try {
    await linkReady(ctx.dut, ifname, ctx.signal, ctx.log);
    return await body(mtu);
  } finally {
    await ctx.dut.run('dut', 'link.setMtu', { ifname, mtu: previous });
    await linkReady(ctx.dut, ifname, ctx.signal, ctx.log);
  }
}

/** Sets net.ipv4.tcp_timestamps as each connection asks and puts the DUT's value back at the end. */
async function withTimestampsRestored<T>(ctx: CheckContext, body: () => Promise<T>): Promise<T> {
  const { previous } = await ctx.dut.run('dut', 'sysctl.set', { name: 'net.ipv4.tcp_timestamps', value: '1' });
  try {
    return await body();
  } finally {
    await ctx.dut.run('dut', 'sysctl.set', { name: 'net.ipv4.tcp_timestamps', value: previous });
  }
}

export async function runTsoCase(
  ctx: CheckContext,
  family: IpFamily,
  via?: (family: IpFamily) => ConnectionPlan['via'],
): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const mangleId = ctx.features['tx-tcp-mangleid-segmentation']?.active ?? false;
  const wantMtu = ctx.variant.params?.mtu as number | undefined;
  return withPeerMergingOff(ctx, () =>
    withTimestampsRestored(ctx, () =>
      withDutMtu(ctx, wantMtu, async (mtu) => {
        const outcomes: CheckOutcome[] = [];
        for (const c of CONNECTION_CASES) {
          if (ctx.signal.aborted) break;
          const seed = rng.u32();
          try {
            outcomes.push(
              await runConnection(
                ctx,
                {
                  family,
                  sport: rng.int(45000, 49999),
                  dport: rng.int(40000, 44999),
                  seed,
                  writes: plannedWrites(seed),
                  mtu,
                  mangleId,
                  via: via?.(family),
                },
                c,
              ),
            );
          } catch (e) {
            outcomes.push({ status: 'error', message: `IPv${family} TCP connection: ${describeError(e)}`, evidence: {} });
          }
          // A stalled connection already proves the fault; the next ones would only wait as long again.
          if (outcomes.at(-1)?.evidence.stalledAtWrite !== undefined) break;
        }
        return combineConnections(outcomes, { mtu, mangleIdFeature: mangleId });
      }),
    ),
  );
}
