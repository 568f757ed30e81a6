/** The `tx-csum/*` family: is what the DUT transmits correctly checksummed, with offload on and off? */
import { combineStatuses } from '../../../matrix/verdict.js';
import type { About, Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
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

export const txCsumFamily: Family = {
  name: 'tx-csum',
  title: 'TX checksum offload',
  definition:
    'Frames the DUT transmits with the checksum left to the device (offload on) or computed by the stack (off), judged on what the peer captured; ethtool features tx-checksumming, tx-checksum-ipv4, tx-checksum-ipv6, tx-checksum-ip-generic.',
};

const ABOUT = {
  'ipv4-udp': {
    definition: 'Sends 100 IPv4 UDP datagrams of random lengths (0–1472 bytes) from a socket and captures them at the peer.',
    proves:
      'Every datagram left with a correct UDP checksum (or a correct partial seed on a virtual link) and reached the peer byte for byte.',
  },
  'ipv4-tcp': {
    definition: 'Streams 100 writes of random sizes over IPv4 TCP and captures every segment at the peer.',
    proves: "Every segment carried a correct TCP checksum and the peer's socket received the exact byte stream.",
  },
  'ipv6-udp': {
    definition: 'Sends 100 IPv6 UDP datagrams of random lengths (0–1452 bytes) from a socket and captures them at the peer.',
    proves: 'Every datagram left with a correct UDP checksum over the IPv6 pseudo-header and reached the peer byte for byte.',
  },
  'ipv6-tcp': {
    definition: 'Streams 100 writes of random sizes over IPv6 TCP and captures every segment at the peer.',
    proves: "Every segment carried a correct TCP checksum over the IPv6 pseudo-header and the peer's socket received the exact stream.",
  },
  generic: {
    definition:
      'Sends hand-made frames through PACKET_VNET_HDR with arbitrary csum_start/csum_offset: IPv4 UDP, IPv6 TCP, IP behind a 4-byte shim and a non-IP EtherType.',
    proves:
      'The device filled exactly the 16-bit field at csum_start + csum_offset with the right sum and changed no other byte (NETIF_F_HW_CSUM).',
  },
  'udp-zero': {
    definition: 'Sends IPv4 and IPv6 UDP datagrams whose checksum folds to zero.',
    proves: "The checksum went out as 0xFFFF, never 0x0000 (IPv4's 'no checksum', invalid in IPv6).",
  },
  'udp-nocsum': {
    definition: 'Sends IPv4 UDP from a socket with SO_NO_CHECK, so no checksum is asked for.',
    proves: 'The checksum field stayed 0 and the datagrams arrived intact: nothing invented a checksum.',
  },
  'ipv4-options': {
    definition: 'Sends IPv4 UDP carrying a Router Alert option, so the UDP header starts 4 bytes later.',
    proves: 'The checksum was computed from the real start of the UDP header, after the IPv4 options.',
  },
  'ipv6-exthdr': {
    definition: 'Sends IPv6 UDP behind a destination options extension header.',
    proves: 'The UDP checksum was right with an extension header between IPv6 and UDP.',
  },
  vlan: {
    definition: 'Sends 802.1Q-tagged IPv4 UDP and IPv6 TCP frames with the checksum left to the device.',
    proves: 'Tagged frames got correct checksums: the 4-byte tag did not shift where the device summed or wrote.',
  },
} as const satisfies Record<string, About>;

function txCheck(id: keyof typeof ABOUT, title: string, run: (ctx: CheckContext) => Promise<CheckOutcome>): Check {
  return { id: `tx-csum/${id}`, family: 'tx-csum', title, ...ABOUT[id], variants: () => [...TX_VARIANTS], run };
}

export const txCsumChecks: readonly Check[] = [
  txCheck('ipv4-udp', 'IPv4 UDP checksums on the wire', (ctx) => runUdpCase(ctx, 'IPv4 UDP', { family: 4 })),
  txCheck('ipv4-tcp', 'IPv4 TCP checksums on the wire', (ctx) => runTcpCase(ctx, 'IPv4 TCP', 4)),
  txCheck('ipv6-udp', 'IPv6 UDP checksums on the wire', (ctx) => runUdpCase(ctx, 'IPv6 UDP', { family: 6 })),
  txCheck('ipv6-tcp', 'IPv6 TCP checksums on the wire', (ctx) => runTcpCase(ctx, 'IPv6 TCP', 6)),
  { ...txCheck('generic', 'Arbitrary csum_start/csum_offset (NETIF_F_HW_CSUM)', runGenericCase), craftsDutFrames: true },
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
  { ...txCheck('vlan', '802.1Q-tagged frames with checksum offload', runVlanCase), craftsDutFrames: true },
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
