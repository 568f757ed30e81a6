/** The `tx-csum/*` family: is what the DUT transmits correctly checksummed, with offload on and off? */
import { combineStatuses } from '../../../matrix/verdict.js';
import type { Check, CheckContext, CheckOutcome, Variant } from '../types.js';
import { runTcpCase, runUdpCase } from './socket-checks.js';
import { runGenericCase, runVlanCase } from './vnet-checks.js';

/** Offload on: the driver gets CHECKSUM_PARTIAL; off: the stack sums in software. */
export const TX_VARIANTS: readonly Variant[] = [
  { name: 'offload-on', features: { 'tx-checksumming': true } },
  { name: 'offload-off', features: { 'tx-checksumming': false } },
];

/** IPv4 Router Alert (RFC 2113), 4 bytes: an option every router and host accepts. */
const IPV4_ROUTER_ALERT = Buffer.from([0x94, 0x04, 0x00, 0x00]);
/** IPv6 destination options header body with PadN: 8 bytes, next header and length filled by the kernel. */
const IPV6_DSTOPTS_PADN = Buffer.from([0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00]);

function txCheck(id: string, title: string, run: (ctx: CheckContext) => Promise<CheckOutcome>): Check {
  return { id: `tx-csum/${id}`, family: 'tx-csum', title, variants: () => [...TX_VARIANTS], run };
}

export const txCsumChecks: readonly Check[] = [
  txCheck('ipv4-udp', 'IPv4 UDP checksums on the wire', (ctx) => runUdpCase(ctx, 'IPv4 UDP', { family: 4 })),
  txCheck('ipv4-tcp', 'IPv4 TCP checksums on the wire', (ctx) => runTcpCase(ctx, 'IPv4 TCP', 4)),
  txCheck('ipv6-udp', 'IPv6 UDP checksums on the wire', (ctx) => runUdpCase(ctx, 'IPv6 UDP', { family: 6 })),
  txCheck('ipv6-tcp', 'IPv6 TCP checksums on the wire', (ctx) => runTcpCase(ctx, 'IPv6 TCP', 6)),
  txCheck('generic', 'Arbitrary csum_start/csum_offset (NETIF_F_HW_CSUM)', runGenericCase),
  txCheck('udp-zero', 'A UDP sum folding to zero goes out as 0xFFFF', async (ctx) => {
    const v4 = await runUdpCase(ctx, 'IPv4 UDP folding to zero', { family: 4, rule: 'ffff', zeroSum: true, count: 50 });
    const v6 = await runUdpCase({ ...ctx, seed: (ctx.seed ^ 0x5bd1e995) >>> 0 }, 'IPv6 UDP folding to zero', {
      family: 6,
      rule: 'ffff',
      zeroSum: true,
      count: 50,
    });
    return mergeOutcomes(v4, v6);
  }),
  txCheck('udp-nocsum', 'IPv4 UDP sent without checksum stays 0', (ctx) =>
    runUdpCase(ctx, 'IPv4 UDP with SO_NO_CHECK', { family: 4, rule: 'zero', noChecksum: true }),
  ),
  txCheck('ipv4-options', 'IPv4 with options: the checksum starts after them', (ctx) =>
    runUdpCase(ctx, 'IPv4 UDP with Router Alert option', { family: 4, ipOptions: IPV4_ROUTER_ALERT }),
  ),
  txCheck('ipv6-exthdr', 'IPv6 with an extension header before UDP', (ctx) =>
    runUdpCase(ctx, 'IPv6 UDP after a destination options header', { family: 6, ipv6DstOpts: IPV6_DSTOPTS_PADN }),
  ),
  txCheck('vlan', '802.1Q-tagged frames with checksum offload', runVlanCase),
];

/** Two halves of one check: the worse verdict wins, both messages and evidences kept. */
export function mergeOutcomes(a: CheckOutcome, b: CheckOutcome): CheckOutcome {
  const status = combineStatuses([a.status, b.status]);
  return {
    status,
    message: `${a.message}; ${b.message}`,
    evidence: { parts: [a.evidence, b.evidence], pcap: a.evidence.pcap ?? b.evidence.pcap },
  };
}
