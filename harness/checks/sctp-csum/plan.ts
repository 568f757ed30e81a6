/**
 * What the peer sends an SCTP endpoint on the DUT (pure, seeded): INIT chunks
 * with a right, a wrong or a zero CRC32c. A good INIT makes the DUT's kernel
 * answer with an INIT ACK whose state cookie carries the whole INIT back, so
 * a skippable parameter of random size makes the answers of every size the
 * link allows: the DUT's transmitted CRC32c is judged on those.
 */
import { buildSctpFrame, sctpChecksum, sctpInitValue, SCTP_INIT, type IpFamily } from '../../codec/index.js';
import type { Rng } from '../../codec/random.js';
import { ipPacketKey } from '../rx-csum/plan.js';

export type SctpKind = 'good' | 'bad-crc' | 'zero-crc';

/** A parameter type whose two high bits say "skip it, report nothing" (RFC 9260 3.2.1). */
export const SKIPPED_PARAM = 0x8f3c;
/** Room the INIT ACK adds around the INIT it carries in its cookie (cookie header, MAC, its own parameters). */
export const INIT_ACK_OVERHEAD = 700;

export interface SctpEnds {
  family: IpFamily;
  srcMac: string;
  dstMac: string;
  /** Peer address (source of the INITs) and the DUT's (their destination). */
  src: string;
  dst: string;
  /** The DUT listener's port. */
  dport: number;
}

export interface SctpPlanned {
  index: number;
  kind: SctpKind;
  frame: Buffer;
  /** Hash of the IP packet, to find the frame in the DUT's capture. */
  key: string;
  sport: number;
  initiateTag: number;
  /** The DUT must answer with an INIT ACK, or drop it without a word. */
  expect: 'answer' | 'drop';
}

function skippedParam(rng: Rng, len: number): Buffer {
  const p = Buffer.alloc(4 + Math.ceil(len / 4) * 4);
  p.writeUInt16BE(SKIPPED_PARAM, 0);
  p.writeUInt16BE(4 + len, 2);
  rng.bytes(len).copy(p, 4);
  return p;
}

/** A CRC32c value other than the right one and other than 0. */
function wrongCrc(rng: Rng, right: number): number {
  for (;;) {
    const v = rng.u32();
    if (v !== right && v !== 0) return v;
  }
}

/** One INIT per kind entry; ports and initiate tags are unique, so each answer names its INIT. */
export function planInits(rng: Rng, e: SctpEnds, kinds: readonly SctpKind[], mtu: number): SctpPlanned[] {
  const ports = new Set<number>();
  const tags = new Set<number>();
  const maxParam = Math.max(0, mtu - INIT_ACK_OVERHEAD - (e.family === 4 ? 20 : 40));
  return kinds.map((kind, index) => {
    let sport = rng.int(10000, 60000);
    while (ports.has(sport)) sport = rng.int(10000, 60000);
    ports.add(sport);
    let initiateTag = rng.u32() || 1;
    while (tags.has(initiateTag)) initiateTag = rng.u32() || 1;
    tags.add(initiateTag);
    const value = sctpInitValue({
      initiateTag,
      initialTsn: rng.u32(),
      arwnd: 65536,
      outStreams: 4,
      inStreams: 4,
      params: skippedParam(rng, rng.int(0, maxParam)),
    });
    const base = { ...e, sport, vtag: 0, chunks: [{ type: SCTP_INIT, value }] };
    let frame = buildSctpFrame(base);
    if (kind !== 'good') {
      const right = rightCrc(frame, e.family);
      frame = buildSctpFrame({ ...base, checksum: kind === 'zero-crc' ? 'zero' : wrongCrc(rng, right) });
    }
    return { index, kind, frame, key: ipPacketKey(frame)!, sport, initiateTag, expect: kind === 'good' ? 'answer' : 'drop' };
  });
}

/** Frame offset of the SCTP header in the untagged frames built here. */
export function sctpOffset(family: IpFamily): number {
  return 14 + (family === 4 ? 20 : 40);
}

/** The CRC32c the field of a frame built here must hold. */
export function rightCrc(frame: Buffer, family: IpFamily): number {
  return sctpChecksum(frame, sctpOffset(family));
}
