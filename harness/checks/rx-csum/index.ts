/** The `rx-csum/*` family: does the DUT deliver good checksums and drop (and count) bad ones, with RX offload on and off? */
import type { About, Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
import { runTcpRx, runUdpRx } from './cases.js';

/**
 * Offload on: the device may validate and say so (CHECKSUM_UNNECESSARY); off:
 * the stack checks every byte. GRO off in both: GRO validates TCP/UDP sums in
 * software and marks them like the device would, hiding what the device did.
 */
export const RX_VARIANTS: readonly Variant[] = [
  { name: 'offload-on', features: { 'rx-checksumming': true, 'generic-receive-offload': false }, optional: ['generic-receive-offload'] },
  { name: 'offload-off', features: { 'rx-checksumming': false, 'generic-receive-offload': false }, optional: ['generic-receive-offload'] },
];

const PER_KIND = 100;

export const rxCsumFamily: Family = {
  name: 'rx-csum',
  title: 'RX checksum offload',
  definition:
    'Frames the peer builds with good and deliberately corrupted checksums, injected at the DUT with RX checksum offload on and off (GRO off); ethtool feature rx-checksumming.',
};

const ABOUT = {
  'ipv4-udp': {
    definition: 'Injects 100 good and 100 corrupted-checksum IPv4 UDP datagrams at the DUT.',
    proves: 'Good datagrams reached the socket intact, bad ones were dropped and counted, and the device marked no bad one valid.',
  },
  'ipv4-tcp': {
    definition: 'Injects an IPv4 TCP stream of good segments, each with a corrupted copy.',
    proves: 'The socket received exactly the good stream; every corrupted copy was dropped and counted (TcpInCsumErrors).',
  },
  'ipv6-udp': {
    definition: 'Injects 100 good and 100 corrupted-checksum IPv6 UDP datagrams at the DUT.',
    proves: 'Good datagrams reached the socket intact, bad ones were dropped and counted, and the device marked no bad one valid.',
  },
  'ipv6-tcp': {
    definition: 'Injects an IPv6 TCP stream of good segments, each with a corrupted copy.',
    proves: 'The socket received exactly the good stream; every corrupted copy was dropped and counted (TcpInCsumErrors).',
  },
  'ipv4-udp-zero': {
    definition: 'Injects IPv4 UDP datagrams with checksum 0 (none).',
    proves: "They were delivered intact: 0 means 'not computed' in IPv4 and must not be treated as wrong.",
  },
  'ipv6-udp-zero': {
    definition: 'Injects IPv6 UDP datagrams with checksum 0 beside good ones.',
    proves: 'The zero-checksum datagrams were dropped and counted (RFC 8200 8.1) and the good ones delivered.',
  },
  'ipv4-header': {
    definition: 'Injects IPv4 datagrams with a corrupted header checksum beside good ones.',
    proves: 'Bad headers were dropped and counted (IpInHdrErrors) and good datagrams delivered.',
  },
  vlan: {
    definition: 'Injects priority-tagged good and bad UDP, and frames of a VLAN the DUT has no interface for.',
    proves: 'Tagged frames were judged like untagged ones and frames of a foreign VLAN never reached a socket.',
  },
} as const satisfies Record<string, About>;

function rxCheck(id: keyof typeof ABOUT, title: string, run: (ctx: CheckContext) => Promise<CheckOutcome>): Check {
  return {
    id: `rx-csum/${id}`,
    family: 'rx-csum',
    title,
    ...ABOUT[id],
    variants: () => [...RX_VARIANTS],
    run,
  };
}

export const rxCsumChecks: readonly Check[] = [
  rxCheck('ipv4-udp', 'IPv4 UDP: good checksums delivered, bad ones dropped and counted', (ctx) =>
    runUdpRx(ctx, 'IPv4 UDP', [
      { family: 4, kind: 'good', count: PER_KIND },
      { family: 4, kind: 'bad-l4', count: PER_KIND },
    ]),
  ),
  rxCheck('ipv4-tcp', 'IPv4 TCP: good segments delivered in order, corrupted copies dropped and counted', (ctx) =>
    runTcpRx(ctx, 'IPv4 TCP', 4),
  ),
  rxCheck('ipv6-udp', 'IPv6 UDP: good checksums delivered, bad ones dropped and counted', (ctx) =>
    runUdpRx(ctx, 'IPv6 UDP', [
      { family: 6, kind: 'good', count: PER_KIND },
      { family: 6, kind: 'bad-l4', count: PER_KIND },
    ]),
  ),
  rxCheck('ipv6-tcp', 'IPv6 TCP: good segments delivered in order, corrupted copies dropped and counted', (ctx) =>
    runTcpRx(ctx, 'IPv6 TCP', 6),
  ),
  rxCheck('ipv4-udp-zero', 'IPv4 UDP with checksum 0 (none) is delivered', (ctx) =>
    runUdpRx(ctx, 'IPv4 UDP with checksum 0', [{ family: 4, kind: 'zero', count: PER_KIND }]),
  ),
  rxCheck('ipv6-udp-zero', 'IPv6 UDP with checksum 0 is dropped and counted (RFC 8200 8.1)', (ctx) =>
    runUdpRx(ctx, 'IPv6 UDP with checksum 0', [
      { family: 6, kind: 'zero', count: PER_KIND },
      { family: 6, kind: 'good', count: PER_KIND },
    ]),
  ),
  rxCheck('ipv4-header', 'A bad IPv4 header checksum is dropped and counted', (ctx) =>
    runUdpRx(ctx, 'IPv4 header checksum', [
      { family: 4, kind: 'bad-ip', count: PER_KIND },
      { family: 4, kind: 'good', count: PER_KIND },
    ]),
  ),
  rxCheck(
    'vlan',
    '802.1Q tags: priority-tagged frames judged like untagged ones; frames of a VLAN the DUT has no interface for are not delivered',
    (ctx) =>
      runUdpRx(ctx, '802.1Q-tagged UDP', [
        { family: 4, kind: 'good', count: PER_KIND / 2, tag: 'priority' },
        { family: 4, kind: 'bad-l4', count: PER_KIND / 2, tag: 'priority' },
        { family: 6, kind: 'good', count: PER_KIND / 2, tag: 'priority' },
        { family: 6, kind: 'bad-l4', count: PER_KIND / 2, tag: 'priority' },
        { family: 4, kind: 'other-vlan', count: PER_KIND / 4, tag: 'vlan' },
        { family: 6, kind: 'other-vlan', count: PER_KIND / 4, tag: 'vlan' },
      ]),
  ),
];
