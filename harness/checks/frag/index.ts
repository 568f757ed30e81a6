/** The `frag/*` family: are IP fragments reassembled correctly, and are malicious or broken fragment sets dropped? */
import type { IpFamily } from '../../codec/index.js';
import type { About, Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
import { runArranged, runBadChecksum, runMissing, runOverlap, runSocket } from './cases.js';
import type { Arrangement } from './plan.js';

const OFFLOADS = ['rx-checksumming', 'tx-checksumming'];

/** Reassembly is the stack's work: the offloads only change who checksums, so a device that cannot switch them still runs both. */
export const FRAG_VARIANTS: readonly Variant[] = [
  { name: 'offload-on', features: { 'rx-checksumming': true, 'tx-checksumming': true }, optional: OFFLOADS },
  { name: 'offload-off', features: { 'rx-checksumming': false, 'tx-checksumming': false }, optional: OFFLOADS },
];

export const fragFamily: Family = {
  name: 'frag',
  title: 'IP fragments',
  definition:
    "Fragmentation and reassembly of UDP datagrams (the NFS case) in every order and in malicious sets, with checksum offloads on and off; the stack's own work, no ethtool feature of its own.",
};

function fragCheck(id: string, title: string, about: About, run: (ctx: CheckContext) => Promise<CheckOutcome>): Check {
  return {
    id: `frag/${id}`,
    family: 'frag',
    title,
    ...about,
    variants: () => [...FRAG_VARIANTS],
    run,
  };
}

const ARRANGED: { how: Arrangement; title: string }[] = [
  { how: 'in-order', title: 'fragments in order' },
  { how: 'reverse', title: 'fragments in reverse order' },
  { how: 'shuffled', title: 'fragments of several datagrams shuffled together' },
  { how: 'duplicate', title: 'duplicated fragments (each datagram delivered once)' },
];

const REASSEMBLED = 'Each datagram was reassembled and delivered exactly once, byte for byte.';

function perFamily(family: IpFamily): Check[] {
  const v = `ipv${family}`;
  const V = `IPv${family}`;
  return [
    fragCheck(
      `${v}-send`,
      `${V} UDP datagrams of 1.5-64 KiB from the DUT's socket, byte-exact at the peer`,
      {
        definition: `Sends ${V} UDP datagrams of 1.5–64 KiB from the DUT's socket, fragmented by its stack.`,
        proves: "Every datagram reached the peer's socket once, byte for byte.",
      },
      (ctx) => runSocket(ctx, family, 'send'),
    ),
    fragCheck(
      `${v}-receive`,
      `${V} UDP datagrams of 1.5-64 KiB from the peer's socket, byte-exact at the DUT`,
      { definition: `The peer sends ${V} UDP datagrams of 1.5–64 KiB to the DUT.`, proves: REASSEMBLED },
      (ctx) => runSocket(ctx, family, 'receive'),
    ),
    ...ARRANGED.map((a) =>
      fragCheck(
        `${v}-${a.how}`,
        `${V} ${a.title}`,
        { definition: `Injects ${V} fragment sets at the DUT: ${a.title}.`, proves: REASSEMBLED },
        (ctx) => runArranged(ctx, family, a.how),
      ),
    ),
    fragCheck(
      `${v}-overlap`,
      family === 6
        ? 'IPv6 overlapping fragments: the datagram is dropped (RFC 5722)'
        : 'IPv4 overlapping fragments: dropped, or delivered as one consistent reading',
      {
        definition: `Injects ${V} fragment sets whose fragments overlap, some with differing bytes.`,
        proves:
          family === 6
            ? 'Every such datagram was dropped whole (RFC 5722): no overlapping data reached a socket.'
            : 'Every such datagram was dropped, or delivered as one consistent reading, never a mix.',
      },
      (ctx) => runOverlap(ctx, family),
    ),
    fragCheck(
      `${v}-missing`,
      `${V} datagram with a fragment missing: nothing delivered, the reassembly timeout counted`,
      {
        definition: `Injects ${V} fragment sets with one fragment left out.`,
        proves: 'Nothing was delivered and the reassembly timeout was counted.',
      },
      (ctx) => runMissing(ctx, family),
    ),
    fragCheck(
      `${v}-bad-csum`,
      `${V} fragmented datagram with a bad UDP checksum: dropped and counted`,
      {
        definition: `Injects fragmented ${V} UDP datagrams, half of them with a bad checksum over the whole datagram.`,
        proves: 'After reassembly the bad ones were dropped and counted and the good ones delivered.',
      },
      (ctx) => runBadChecksum(ctx, family),
    ),
  ];
}

export const fragChecks: readonly Check[] = [...perFamily(4), ...perFamily(6)];
