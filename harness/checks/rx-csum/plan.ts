/**
 * The frames the peer injects toward the DUT in a UDP receive case (pure,
 * seeded): good ones, ones with a corrupted L4 or IPv4 header checksum, UDP
 * with checksum 0, tagged ones. Each says what the DUT must do with it.
 */
import { createHash } from 'node:crypto';
import { sameOnesComplement } from '../../codec/checksum.js';
import { NicmatrixError } from '../../codec/errors.js';
import { buildUdpFrame, parseFrame, verifyL4, type IpFamily, type VlanSpec } from '../../codec/index.js';
import type { Rng } from '../../codec/random.js';

/** What a frame is, for messages and for the counter it must raise (bad-outer, bad-gre: a tunnel's outer UDP or GRE checksum is wrong). */
export type RxKind = 'good' | 'bad-l4' | 'bad-ip' | 'zero' | 'other-vlan' | 'bad-outer' | 'bad-gre';

/** One side's addresses as the frames need them. */
export interface RxFlow {
  family: IpFamily;
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface PlannedFrame {
  index: number;
  kind: RxKind;
  family: IpFamily;
  /** Source the socket must report for it. */
  src: string;
  sport: number;
  frame: Buffer;
  /** Identifies the frame in a capture: a hash of its IP packet (tags stripped or not). */
  key: string;
  /** What the socket gets if the frame is delivered. */
  payload: Buffer;
  /** The DUT must hand it to the socket, or never. */
  expect: 'deliver' | 'drop';
  /** The L4 checksum is arithmetically right (or an IPv4 UDP 0): a device may report it valid. */
  csumOk: boolean;
  /** nstat counter the frame must raise once it reaches the stack. */
  counter?: string;
}

/** What one frame of the plan is made of; the plan builder fills payload and checksum. */
export interface FrameSpec {
  kind: RxKind;
  flow: RxFlow;
  vlan?: VlanSpec[];
}

/** Hash of the IP packet inside a frame: equal for a frame sent and the same frame captured (tag in the data or stripped). */
export function ipPacketKey(frame: Buffer): string | undefined {
  const p = parseFrame(frame);
  if (!p.ip) return undefined;
  const end = Math.min(frame.length, p.ip.offset + p.ip.totalLen);
  return createHash('sha1').update(frame.subarray(p.ip.offset, end)).digest('hex');
}

/** A 16-bit value the receiver must reject in place of `right`: not equal in ones' complement, and never 0 (IPv4 UDP 0 is legal). */
export function wrongChecksum(rng: Rng, right: number): number {
  for (;;) {
    const v = rng.int(1, 0xffff);
    if (!sameOnesComplement(v, right)) return v;
  }
}

function counterFor(kind: RxKind, family: IpFamily): string | undefined {
  if (kind === 'bad-l4' || (kind === 'zero' && family === 6)) return family === 4 ? 'UdpInCsumErrors' : 'Udp6InCsumErrors';
  if (kind === 'bad-ip') return 'IpInHdrErrors';
  return undefined;
}

function expectFor(kind: RxKind, family: IpFamily): 'deliver' | 'drop' {
  if (kind === 'good') return 'deliver';
  if (kind === 'zero') return family === 4 ? 'deliver' : 'drop';
  return 'drop';
}

/**
 * Builds one frame per spec with a payload of the given length. Payloads are
 * unique within the plan, so a delivered datagram names the frame it came from.
 */
export function planFrames(rng: Rng, specs: readonly FrameSpec[], lengths: readonly number[]): PlannedFrame[] {
  if (lengths.length !== specs.length)
    throw new NicmatrixError('INTERNAL', `planFrames: expected a payload length per spec (${specs.length}), found ${lengths.length}`);
  const seen = new Set<string>();
  return specs.map((s, index) => {
    let len = lengths[index]!;
    let payload = rng.bytes(len);
    // Short payloads repeat by chance (two empty ones always do): lengthen until unique.
    while (seen.has(`${s.flow.family}:${payload.toString('hex')}`)) payload = rng.bytes(++len);
    seen.add(`${s.flow.family}:${payload.toString('hex')}`);
    const base = { ...s.flow, payload, vlan: s.vlan };
    let frame = buildUdpFrame({ ...base, checksum: s.kind === 'zero' ? 'zero' : 'correct' });
    if (s.kind === 'bad-l4') {
      const right = verifyL4(frame).expected;
      frame = buildUdpFrame({ ...base, checksum: wrongChecksum(rng, right) });
    }
    if (s.kind === 'bad-ip') {
      const p = parseFrame(frame);
      const off = p.ip!.offset + 10;
      frame.writeUInt16BE(wrongChecksum(rng, frame.readUInt16BE(off)), off);
    }
    const v = verifyL4(frame);
    return {
      index,
      kind: s.kind,
      family: s.flow.family,
      src: s.flow.src,
      sport: s.flow.sport,
      frame,
      key: ipPacketKey(frame)!,
      payload,
      expect: expectFor(s.kind, s.flow.family),
      csumOk: v.ok,
      counter: counterFor(s.kind, s.flow.family),
    };
  });
}

/** How many frames of each kind a plan holds, for evidence. */
export function kindCounts(frames: readonly PlannedFrame[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of frames) out[`ipv${f.family}-${f.kind}`] = (out[`ipv${f.family}-${f.kind}`] ?? 0) + 1;
  return out;
}
