/**
 * The `tunnel-csum/*` family: inner and outer checksums of VXLAN, GENEVE and
 * GRE traffic, sent by the DUT through a tunnel stacked on the interface under
 * test (`*-tx`) and received by it from frames the peer made (`*-rx`).
 */
import type { Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
import type { TunnelCase } from './setup.js';
import { runTunnelTx } from './tx.js';
import { runTunnelRx } from './rx.js';
import { RX_VARIANTS } from '../rx-csum/index.js';

const UDP_TNL_SEG = ['tx-udp_tnl-segmentation', 'tx-udp_tnl-csum-segmentation'];
const GRE_SEG = ['tx-gre-segmentation', 'tx-gre-csum-segmentation'];

/** Checksum offload (and the tunnel's segmentation offloads, where the device has them) on, then all off. */
export function tunnelTxVariants(c: TunnelCase): Variant[] {
  const seg = c.kind === 'vxlan' || c.kind === 'geneve' ? UDP_TNL_SEG : GRE_SEG;
  const all = (on: boolean) => Object.fromEntries([['tx-checksumming', on], ...seg.map((f) => [f, on])]) as Record<string, boolean>;
  return [
    { name: 'offload-on', features: all(true), optional: seg },
    { name: 'offload-off', features: all(false), optional: seg },
  ];
}

export const TUNNEL_CASES: readonly (TunnelCase & { title: string })[] = [
  { name: 'vxlan4', kind: 'vxlan', outer: 4, udpCsum: true, title: 'VXLAN over IPv4, outer UDP checksum on' },
  { name: 'vxlan4-nocsum', kind: 'vxlan', outer: 4, udpCsum: false, title: 'VXLAN over IPv4, outer UDP checksum off (0 on the wire)' },
  { name: 'vxlan6', kind: 'vxlan', outer: 6, udpCsum: true, title: 'VXLAN over IPv6, outer UDP checksum on' },
  { name: 'vxlan6-zerocsum', kind: 'vxlan', outer: 6, udpCsum: false, title: 'VXLAN over IPv6 with udp6zerocsumtx (0 on the wire)' },
  { name: 'geneve4', kind: 'geneve', outer: 4, udpCsum: true, title: 'GENEVE over IPv4, outer UDP checksum on' },
  { name: 'geneve6', kind: 'geneve', outer: 6, udpCsum: true, title: 'GENEVE over IPv6, outer UDP checksum on' },
  { name: 'gre4', kind: 'gre', outer: 4, greCsum: false, title: 'GRE over IPv4 without the GRE checksum' },
  { name: 'gre4-csum', kind: 'gre', outer: 4, greCsum: true, title: 'GRE over IPv4 with the GRE checksum' },
  { name: 'ip6gre', kind: 'ip6gre', outer: 6, greCsum: false, title: 'ip6gre without the GRE checksum' },
  { name: 'ip6gre-csum', kind: 'ip6gre', outer: 6, greCsum: true, title: 'ip6gre with the GRE checksum' },
];

export const tunnelCsumFamily: Family = {
  name: 'tunnel-csum',
  title: 'Tunnel checksums',
  definition:
    'Inner and outer checksums of VXLAN, GENEVE and GRE traffic sent through a tunnel on the DUT and received from frames the peer made; ethtool features tx-checksumming, tx-udp_tnl-*, tx-gre-*, rx-checksumming.',
};

function txCheck(c: TunnelCase & { title: string }): Check {
  return {
    id: `tunnel-csum/${c.name}-tx`,
    family: 'tunnel-csum',
    title: `${c.title}: inner UDP/TCP sent through it, every level right on the wire and delivered intact`,
    definition: `Sends inner UDP and TCP through a tunnel on the DUT (${c.title}), checksum offload on and off.`,
    proves: 'Every inner and outer checksum was right on the wire and the peer received every inner datagram intact.',
    variants: () => tunnelTxVariants(c),
    run: (ctx: CheckContext): Promise<CheckOutcome> => runTunnelTx(ctx, c, c.title),
  };
}

/** Receive cases: the outer kinds a tunnel can carry wrong (outer UDP checksum, GRE checksum) and the inner ones. */
const RX_CASES = new Set(['vxlan4', 'vxlan6', 'geneve4', 'gre4-csum', 'ip6gre-csum']);

function rxCheck(c: TunnelCase & { title: string }): Check {
  return {
    id: `tunnel-csum/${c.name}-rx`,
    family: 'tunnel-csum',
    title: `${c.title}: good inner datagrams delivered, wrong inner or outer checksums dropped and counted`,
    definition: `The peer injects tunnelled frames (${c.title}) with good and wrong inner and outer checksums.`,
    proves: 'Good inner datagrams were delivered intact; wrong inner or outer checksums were dropped and counted.',
    variants: () => [...RX_VARIANTS],
    run: (ctx: CheckContext): Promise<CheckOutcome> => runTunnelRx(ctx, c, `${c.title}, receive`),
  };
}

export const tunnelCsumChecks: readonly Check[] = [
  ...TUNNEL_CASES.map(txCheck),
  ...TUNNEL_CASES.filter((c) => RX_CASES.has(c.name)).map(rxCheck),
];
