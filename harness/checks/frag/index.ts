/** The `frag/*` family: are IP fragments reassembled correctly, and are malicious or broken fragment sets dropped? */
import type { IpFamily } from '../../codec/index.js';
import type { Check, CheckContext, CheckOutcome, Variant } from '../types.js';
import { runArranged, runBadChecksum, runMissing, runOverlap, runSocket } from './cases.js';
import type { Arrangement } from './plan.js';

const OFFLOADS = ['rx-checksumming', 'tx-checksumming'];

/** Reassembly is the stack's work: the offloads only change who checksums, so a device that cannot switch them still runs both. */
export const FRAG_VARIANTS: readonly Variant[] = [
  { name: 'offload-on', features: { 'rx-checksumming': true, 'tx-checksumming': true }, optional: OFFLOADS },
  { name: 'offload-off', features: { 'rx-checksumming': false, 'tx-checksumming': false }, optional: OFFLOADS },
];

function fragCheck(id: string, title: string, run: (ctx: CheckContext) => Promise<CheckOutcome>): Check {
  return {
    id: `frag/${id}`,
    family: 'frag',
    title,
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

function perFamily(family: IpFamily): Check[] {
  const v = `ipv${family}`;
  const V = `IPv${family}`;
  return [
    fragCheck(`${v}-send`, `${V} UDP datagrams of 1.5-64 KiB from the DUT's socket, byte-exact at the peer`, (ctx) =>
      runSocket(ctx, family, 'send'),
    ),
    fragCheck(`${v}-receive`, `${V} UDP datagrams of 1.5-64 KiB from the peer's socket, byte-exact at the DUT`, (ctx) =>
      runSocket(ctx, family, 'receive'),
    ),
    ...ARRANGED.map((a) => fragCheck(`${v}-${a.how}`, `${V} ${a.title}`, (ctx) => runArranged(ctx, family, a.how))),
    fragCheck(
      `${v}-overlap`,
      family === 6
        ? 'IPv6 overlapping fragments: the datagram is dropped (RFC 5722)'
        : 'IPv4 overlapping fragments: dropped, or delivered as one consistent reading',
      (ctx) => runOverlap(ctx, family),
    ),
    fragCheck(`${v}-missing`, `${V} datagram with a fragment missing: nothing delivered, the reassembly timeout counted`, (ctx) =>
      runMissing(ctx, family),
    ),
    fragCheck(`${v}-bad-csum`, `${V} fragmented datagram with a bad UDP checksum: dropped and counted`, (ctx) =>
      runBadChecksum(ctx, family),
    ),
  ];
}

export const fragChecks: readonly Check[] = [...perFamily(4), ...perFamily(6)];
