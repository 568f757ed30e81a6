/**
 * Fragment sets the peer injects toward the DUT (pure, seeded): whole UDP
 * datagrams cut into IPv4/IPv6 fragments, then sent in order, reversed,
 * shuffled, with duplicates, with an overlap, with one missing, or carrying a
 * bad UDP checksum. Each datagram says what the DUT may deliver of it.
 */
import { NicmatrixError } from '../../codec/errors.js';
import {
  buildIpv4Fragments,
  buildIpv6Fragments,
  buildUdpFrame,
  ipv4FragmentAt,
  ipv6FragmentAt,
  parseFrame,
  verifyL4,
  type IpFamily,
} from '../../codec/index.js';
import type { Rng } from '../../codec/random.js';
import { wrongChecksum, type RxFlow } from '../rx-csum/plan.js';

/** The same addressing as an RX flow: the peer sends, the DUT receives. */
export type FragFlow = RxFlow;

/** One UDP datagram of a case and what the DUT may deliver of it. */
export interface FragDatagram {
  index: number;
  family: IpFamily;
  /** IPv4 identification or IPv6 fragment identification. */
  id: number;
  payload: Buffer;
  /** The whole datagram as one (unfragmented) frame. */
  frame: Buffer;
  /** Fragment data size (a multiple of 8). */
  fragSize: number;
  /** deliver: exactly `payload`; drop: nothing; either: nothing, or one of `readings`. */
  expect: 'deliver' | 'drop' | 'either';
  /** Payloads a consistent reassembly could produce (overlaps: first or last copy of each byte wins). */
  readings?: Buffer[];
  src: string;
  sport: number;
}

/** Ethernet frames of crafted fragments stay at most this big, whatever the MTU (loopback's is 64 KiB). */
export const MAX_FRAGMENT_FRAME = 1514;

/** Largest fragment data size (multiple of 8) a frame of this MTU carries. */
export function maxFragSize(family: IpFamily, mtu: number): number {
  const ipMtu = Math.min(mtu, MAX_FRAGMENT_FRAME - 14);
  return Math.floor((ipMtu - (family === 4 ? 20 : 48)) / 8) * 8;
}

export function makeDatagram(
  rng: Rng,
  flow: FragFlow,
  index: number,
  size: number,
  fragSize: number,
  checksum: 'correct' | 'zero' | 'bad' = 'correct',
  usedIds: Set<number> = new Set(),
): FragDatagram {
  const payload = rng.bytes(size);
  let id = flow.family === 4 ? rng.int(1, 0xffff) : rng.u32();
  // Two datagrams of one case with one ID would be reassembled together (seen: 2 of 8 IPv4 IDs equal).
  while (usedIds.has(id)) id = flow.family === 4 ? rng.int(1, 0xffff) : rng.u32();
  usedIds.add(id);
  const spec = { ...flow, payload, ipv4: { id } };
  let frame = buildUdpFrame({ ...spec, checksum: checksum === 'zero' ? 'zero' : 'correct' });
  if (checksum === 'bad') frame = buildUdpFrame({ ...spec, checksum: wrongChecksum(rng, verifyL4(frame).expected) });
  return {
    index,
    family: flow.family,
    id,
    payload,
    frame,
    fragSize,
    expect: checksum === 'bad' ? 'drop' : 'deliver',
    src: flow.src,
    sport: flow.sport,
  };
}

/** The datagram's fragments, in order. */
export function fragmentsOf(d: FragDatagram): Buffer[] {
  return d.family === 4 ? buildIpv4Fragments(d.frame, d.fragSize, { id: d.id }) : buildIpv6Fragments(d.frame, d.fragSize, { id: d.id });
}

function fragmentAt(d: FragDatagram, datagram: Buffer, offset: number, length: number): Buffer {
  return d.family === 4
    ? ipv4FragmentAt(datagram, offset, length, undefined, { id: d.id })
    : ipv6FragmentAt(datagram, offset, length, undefined, { id: d.id });
}

export type Arrangement = 'in-order' | 'reverse' | 'shuffled' | 'duplicate';

/**
 * The frames to send for a set of datagrams. in-order and reverse go datagram
 * by datagram; shuffled mixes every fragment of every datagram; duplicate sends
 * some fragments two or three times, all before the one that completes the
 * datagram (so no copy starts a new reassembly after delivery).
 */
export function arrange(rng: Rng, datagrams: readonly FragDatagram[], how: Arrangement): Buffer[] {
  const sets = datagrams.map(fragmentsOf);
  if (how === 'in-order') return sets.flat();
  if (how === 'reverse') return sets.flatMap((s) => [...s].reverse());
  if (how === 'shuffled') return rng.shuffle(sets.flat());
  return sets.flatMap((s) => {
    const last = rng.int(0, s.length - 1);
    // rng.int refuses an empty set, so s[last] is a fragment.
    const completing = s[last]!;
    const others = s.filter((_, i) => i !== last);
    const copies = others.filter(() => rng.bool()).flatMap((f) => (rng.bool() ? [f, f] : [f]));
    // At least one duplicate per datagram.
    if (copies.length === 0) copies.push(others.length > 0 ? rng.pick(others) : completing);
    return [...rng.shuffle([...others, ...copies]), completing];
  });
}

/** The fragments of `d` without one of them (chosen at random); nothing can be reassembled. */
export function withoutOne(rng: Rng, d: FragDatagram): { frames: Buffer[]; missing: number } {
  const s = fragmentsOf(d);
  const missing = rng.int(0, s.length - 1);
  return { frames: s.filter((_, i) => i !== missing), missing };
}

/**
 * The fragments of `d` in order, with fragment k (k ≥ 1) starting 8·m bytes
 * early, inside fragment k-1. `differ`: the overlapping bytes of fragment k are
 * other bytes than fragment k-1's. Sets `d.readings`: the payload if the first
 * copy wins, and if the last copy wins.
 */
export function overlapping(rng: Rng, d: FragDatagram, differ: boolean): { frames: Buffer[]; at: number; bytes: number } {
  const p = parseFrame(d.frame);
  const ip = p.ip!;
  const dataStart = ip.offset + (d.family === 4 ? ip.hdrLen : 40);
  const dataLen = ip.offset + ip.totalLen - dataStart;
  const count = Math.ceil(dataLen / d.fragSize);
  if (count < 3) throw new NicmatrixError('INTERNAL', `overlapping: expected a datagram of at least 3 fragments, found ${count}`);
  const k = rng.int(1, count - 1);
  const m = rng.int(1, Math.min(4, d.fragSize / 8 - 1));
  const start = k * d.fragSize - 8 * m;
  const altered = Buffer.from(d.frame);
  if (differ) rng.bytes(8 * m).copy(altered, dataStart + start);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const off = i === k ? start : i * d.fragSize;
    const end = Math.min(dataLen, (i + 1) * d.fragSize);
    frames.push(fragmentAt(d, i === k ? altered : d.frame, off, end - off));
  }
  // UDP header (8 bytes) first: payload byte j is data byte j + 8.
  const last = altered.subarray(dataStart + 8, dataStart + dataLen);
  d.readings = differ ? [d.payload, Buffer.from(last)] : [d.payload];
  return { frames, at: start, bytes: 8 * m };
}
