/**
 * The `gso/*` family: `gso/partial`, TCP through a VXLAN tunnel with the
 * outer UDP checksum on. With GSO partial (`tx-gso-partial`) the stack builds
 * every outer header for one segment and the device only cuts the inner TCP;
 * without it the stack cuts the tunnelled stream itself. Either way every
 * wire segment is judged at every level, and the peer's socket must get the
 * stream byte-exact through its own tunnel.
 */
import type { FeatureSnapshot } from '../../../matrix/record.js';
import type { IpFamily } from '../../codec/index.js';
import { runTsoCase } from '../tso/case.js';
import { combineConnections } from '../tso/outcome.js';
import type { PathVia } from '../tso/round.js';
import { expectOf } from '../tunnel-csum/tx.js';
import { INNER, missingModuleSkip, oneStackSkip, withTunnels, type TunnelCase } from '../tunnel-csum/setup.js';
import type { Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
import { tunnelHandedDown, unwrapTunnel, type TunnelWireTally } from './judge.js';

export const GSO_PARTIAL = 'tx-gso-partial';
/** The tunnel segmentation features GSO partial serves for VXLAN with an outer checksum (and without). */
const UDP_TNL_SEG = ['tx-udp_tnl-csum-segmentation', 'tx-udp_tnl-segmentation'];

/** VXLAN with the outer UDP checksum on, over IPv4 and IPv6: the outer checksum GSO partial must get right for every segment. */
export const PARTIAL_TUNNELS: readonly [TunnelCase & { title: string }, ...(TunnelCase & { title: string })[]] = [
  { name: 'vxlan4', kind: 'vxlan', outer: 4, udpCsum: true, title: 'TCP through VXLAN (outer IPv4, outer UDP checksum on)' },
  { name: 'vxlan6', kind: 'vxlan', outer: 6, udpCsum: true, title: 'TCP through VXLAN (outer IPv6, outer UDP checksum on)' },
];

export const GSO_VARIANTS: readonly Variant[] = [
  // The device cuts the inner TCP of super-frames whose outer headers the stack built.
  {
    name: 'partial',
    features: {
      'tx-checksumming': true,
      'scatter-gather': true,
      'tx-tcp-segmentation': true,
      'tx-tcp6-segmentation': true,
      [GSO_PARTIAL]: true,
      ...Object.fromEntries(UDP_TNL_SEG.map((f) => [f, true])),
    },
    optional: ['tx-tcp6-segmentation', 'tx-udp_tnl-segmentation'],
  },
  // The stack cuts the tunnelled stream itself: no tunnel segmentation, partial or whole, is left to the device.
  {
    name: 'software',
    features: {
      'tx-checksumming': true,
      'scatter-gather': true,
      [GSO_PARTIAL]: false,
      ...Object.fromEntries(UDP_TNL_SEG.map((f) => [f, false])),
    },
    optional: ['tx-checksumming', 'scatter-gather'],
  },
];

/** Why the device does not cut GSO partial super-frames, from its ethtool -k; undefined when it does. */
export function partialUnsupported(features: FeatureSnapshot): string | undefined {
  const f = features[GSO_PARTIAL];
  if (!f) return `${GSO_PARTIAL} is not a feature of this device (ethtool -k lists no such feature)`;
  if (f.active) return undefined;
  return f.fixed
    ? `${GSO_PARTIAL} is off [fixed] (ethtool -k): the driver does not offer GSO partial`
    : `${GSO_PARTIAL} stays off though it was asked on (ethtool -K)`;
}

async function runPartial(ctx: CheckContext): Promise<CheckOutcome> {
  if (ctx.variant.name === 'partial') {
    const why = partialUnsupported(ctx.features);
    // Nothing of the device is left to run: the stack's own cut of the same traffic is the software variant.
    if (why)
      return {
        status: 'unsupported',
        message: `${why}; the stack's own segmentation of the same tunnelled stream is judged by the software variant`,
        evidence: { feature: GSO_PARTIAL, state: ctx.features[GSO_PARTIAL] ?? null },
      };
  }
  if (ctx.link.sameInterface) return oneStackSkip(PARTIAL_TUNNELS[0].title, PARTIAL_TUNNELS[0]);
  const outcomes: CheckOutcome[] = [];
  // One tunnel at a time: both sides' tunnel devices share one name.
  for (const [k, c] of PARTIAL_TUNNELS.entries())
    if (!ctx.signal.aborted) outcomes.push(await runTunnel({ ...ctx, seed: (ctx.seed + k * 0x9e3779b9) >>> 0 }, c));
  return combineConnections(outcomes, { gsoPartial: ctx.features[GSO_PARTIAL]?.active ?? false });
}

/** Inner IPv4 and IPv6 TCP through one tunnel, every frame judged at every level. */
async function runTunnel(ctx: CheckContext, c: TunnelCase & { title: string }): Promise<CheckOutcome> {
  return withTunnels(ctx, c, async (t) => {
    if (t.dutMissing) return missingModuleSkip(c.title, c, t.dutMissing);
    // Without the peer's tunnel there is no socket to receive the stream: nothing of the device can be told.
    if (t.peerMissing)
      return {
        status: 'skip',
        message: `${c.title}: the peer's kernel has no vxlan tunnels (kernel module ${t.peerMissing} missing): no TCP connection can cross the tunnel`,
        evidence: { peerMissingModule: t.peerMissing },
      };
    const path = {
      outer: {
        family: c.outer,
        src: c.outer === 4 ? ctx.link.dut.ipv4 : ctx.link.dut.ipv6,
        dst: c.outer === 4 ? ctx.link.peer.ipv4 : ctx.link.peer.ipv6,
      },
      expect: expectOf(c),
    };
    const via = (family: IpFamily): PathVia => ({
      src: family === 4 ? INNER.dut.v4 : INNER.dut.v6,
      dst: family === 4 ? INNER.peer.v4 : INNER.peer.v6,
      dutIf: ctx.link.dut.ifname,
      peerIf: ctx.link.peer.ifname,
      label: `through VXLAN over IPv${c.outer}`,
      mtu: t.mtu,
      unwrap: (frames) => {
        const u = unwrapTunnel(frames, path);
        return { frames: u.frames, evidence: { ...u.tally } };
      },
      handedDown: tunnelHandedDown,
    });
    const v4 = await runTsoCase(ctx, 4, via);
    const v6 = await runTsoCase({ ...ctx, seed: (ctx.seed ^ 0x5bd1e995) >>> 0 }, 6, via);
    const combined = combineConnections([v4, v6], { tunnel: 'vxlan', outerFamily: c.outer, outerUdpChecksum: true, tunnelMtu: t.mtu });
    if (combined.status !== 'pass') return { ...combined, message: `${c.title}: ${combined.message}` };
    const w = wrappingTotals([v4, v6]);
    const partial = w.innerPartial > 0 ? ` (${w.innerPartial} with the inner checksum left partial, right seed)` : '';
    const ip = c.outer === 4 ? 'outer IPv4 header checksum, length and ID' : 'outer IPv6 payload length';
    return {
      ...combined,
      message: `${c.title}: ${ip}, outer UDP length and checksum right on all ${w.outerFrames} tunnel frames${partial} | ${combined.message}`,
    };
  });
}

/** The wrapping tallies of every connection of the outcomes, summed. */
function wrappingTotals(outcomes: readonly CheckOutcome[]): { outerFrames: number; innerPartial: number } {
  const sum = { outerFrames: 0, innerPartial: 0 };
  for (const o of outcomes)
    for (const c of (o.evidence.connections ?? []) as { wrapping?: Partial<TunnelWireTally> }[]) {
      sum.outerFrames += c.wrapping?.outerFrames ?? 0;
      sum.innerPartial += c.wrapping?.innerPartial ?? 0;
    }
  return sum;
}

export const gsoFamily: Family = {
  name: 'gso',
  title: 'Generic segmentation offload',
  definition:
    'Tunnelled TCP cut by the device from super-frames whose outer headers the stack built (GSO partial) or cut by the stack alone, every segment judged on the wire at every level; ethtool features tx-gso-partial, tx-udp_tnl-csum-segmentation, tx-udp_tnl-segmentation.',
};

export const gsoPartialCheck: Check = {
  id: 'gso/partial',
  family: 'gso',
  title: 'GSO partial: TCP through VXLAN with the outer UDP checksum, every segment judged at every level',
  definition:
    'Streams IPv4 and IPv6 TCP in large writes through VXLAN tunnels (outer IPv4 and IPv6, outer UDP checksum on) with tx-gso-partial on where the driver offers it, and with the stack segmenting alone.',
  proves:
    "Every wire segment had the right outer IP length, ID and checksum, outer UDP length and checksum, inner IP length, ID and checksum, and contiguous inner TCP sequence numbers, flags and checksums, and the peer's socket received the exact stream.",
  variants: () => [...GSO_VARIANTS],
  run: runPartial,
};

export const gsoChecks: readonly Check[] = [gsoPartialCheck];
