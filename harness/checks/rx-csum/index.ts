/** The `rx-csum/*` family: does the DUT deliver good checksums and drop (and count) bad ones, with RX offload on and off? */
import type { Check, CheckContext, CheckOutcome, Variant } from '../types.js';
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

function rxCheck(id: string, title: string, run: (ctx: CheckContext) => Promise<CheckOutcome>): Check {
  return {
    id: `rx-csum/${id}`,
    family: 'rx-csum',
    title,
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
