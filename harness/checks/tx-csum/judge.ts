/**
 * Verdict rules for transmit checksums (pure). What the peer captured is the
 * only truth: every frame of the flow must carry a correct checksum, or, when
 * it arrived CHECKSUM_PARTIAL (veth, lo, virtio), a correct pseudo-header
 * seed at the place csum_start/csum_offset name.
 */
import { canonicalIp, checkPartialSeed, partialOffsets, verifyL4 } from '../../codec/index.js';
import { frameShapeFault } from '../frame-shape.js';
import type { WireFrame } from '../wire.js';

/** What the checksum field must hold on the wire. */
export type FieldRule =
  /** A correct checksum (the UDP zero rule applied). */
  | 'correct'
  /** The computed sum folds to zero: the field must be 0xFFFF, never 0 (RFC 768, RFC 8200 8.1). */
  | 'ffff'
  /** IPv4 UDP sent without a checksum (SO_NO_CHECK): the field must stay 0. */
  | 'zero';

export interface FrameFault {
  index: number;
  reason: string;
}

export interface FrameTally {
  /** Frames of the flow seen on the wire. */
  frames: number;
  /** Frames with a complete, correct checksum (someone summed them). */
  complete: number;
  /** Frames delivered CHECKSUM_PARTIAL with a correct seed (nobody summed them, by design). */
  partial: number;
  faults: FrameFault[];
}

/** Judges the L4 checksum field of each frame of a flow. */
export function judgeChecksums(frames: readonly WireFrame[], rule: FieldRule): FrameTally {
  const tally: FrameTally = { frames: frames.length, complete: 0, partial: 0, faults: [] };
  for (const f of frames) {
    const fault = judgeOne(f, rule);
    if (fault) tally.faults.push({ index: f.index, reason: fault });
    else if (f.partial) tally.partial++;
    else tally.complete++;
  }
  return tally;
}

function judgeOne(f: WireFrame, rule: FieldRule): string | undefined {
  const { ip } = f.parsed;
  if (!ip) return `not an IP frame: ${f.parsed.error ?? 'unparsable'}`;
  // Lengths and the IPv4 header come first: a seed or sum is only meaningful over the right bytes.
  const shape = frameShapeFault(f);
  if (shape) return shape.reason;
  if (f.partial) {
    if (rule === 'zero') return 'a datagram sent without checksum arrived CHECKSUM_PARTIAL: someone will write a checksum into it';
    const offs =
      f.csumStart !== undefined && f.csumOffset !== undefined
        ? { csumStart: f.csumStart, csumOffset: f.csumOffset }
        : partialOffsets(f.data);
    if (!offs) return 'arrived CHECKSUM_PARTIAL but has no L4 checksum field';
    const v = checkPartialSeed(f.data, offs.csumStart, offs.csumOffset);
    return v.ok ? undefined : `CHECKSUM_PARTIAL with a wrong seed: ${v.reason ?? ''}`;
  }
  const v = verifyL4(f.data);
  const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
  if (rule === 'zero') return v.found === 0 ? undefined : `expected checksum 0 (sent without checksum), found ${hex(v.found)}`;
  if (v.state === 'unchecked') return `checksum could not be checked: ${v.reason ?? ''}`;
  if (v.state === 'absent') return 'IPv4 UDP checksum is 0 (absent), but the sender asked for one';
  if (v.state === 'bad') return `checksum ${hex(v.found)} is wrong, expected ${hex(v.expected)}${v.reason ? ` (${v.reason})` : ''}`;
  if (rule === 'ffff' && v.found !== 0xffff) return `the sum folds to zero: expected 0xffff on the wire, found ${hex(v.found)}`;
  return undefined;
}

/** Accounts datagrams: every payload sent must arrive exactly once (multiset match on the bytes). */
export function accountDatagrams(
  sent: readonly Buffer[],
  frames: readonly WireFrame[],
): { missing: number; unexpected: FrameFault[]; duplicates: number } {
  const want = new Map<string, number>();
  for (const p of sent) want.set(p.toString('hex'), (want.get(p.toString('hex')) ?? 0) + 1);
  const unexpected: FrameFault[] = [];
  for (const f of frames) {
    const pl = f.parsed.payload;
    const key = pl ? f.data.subarray(pl.offset, pl.offset + pl.length).toString('hex') : '';
    const n = want.get(key) ?? 0;
    if (n > 0) want.set(key, n - 1);
    else unexpected.push({ index: f.index, reason: `payload of ${pl?.length ?? 0} bytes matches no datagram sent (or arrived twice)` });
  }
  let missing = 0;
  for (const n of want.values()) missing += n;
  return { missing, unexpected, duplicates: 0 };
}

/**
 * Rebuilds a TCP byte stream from the captured segments of one direction and
 * compares it with what was written. Retransmissions must carry the same bytes.
 */
export function accountStream(
  sent: Buffer,
  frames: readonly WireFrame[],
): { ok: boolean; reason?: string; segments: number; retransmitted: number } {
  const syn = frames.find((f) => f.parsed.l4?.tcp && (f.parsed.l4.tcp.flags & 0x02) !== 0);
  if (!syn?.parsed.l4?.tcp) return { ok: false, reason: 'no SYN of the connection was captured', segments: 0, retransmitted: 0 };
  const isn = syn.parsed.l4.tcp.seq;
  const stream = Buffer.alloc(sent.length);
  const have = new Uint8Array(sent.length);
  let segments = 0;
  let retransmitted = 0;
  for (const f of frames) {
    const { l4, payload } = f.parsed;
    if (!l4?.tcp || !payload || payload.length === 0) continue;
    segments++;
    const rel = (l4.tcp.seq - isn - 1) >>> 0;
    const bytes = f.data.subarray(payload.offset, payload.offset + payload.length);
    if (rel + bytes.length > sent.length)
      return {
        ok: false,
        reason: `segment at stream offset ${rel} (+${bytes.length}) runs past the ${sent.length} bytes written`,
        segments,
        retransmitted,
      };
    let again = false;
    for (let i = 0; i < bytes.length; i++) {
      if (have[rel + i] && stream[rel + i] !== bytes[i])
        return { ok: false, reason: `retransmitted byte at stream offset ${rel + i} differs from the first copy`, segments, retransmitted };
      again ||= have[rel + i] === 1;
      have[rel + i] = 1;
      stream[rel + i] = bytes[i]!;
    }
    if (again) retransmitted++;
  }
  const hole = have.indexOf(0);
  if (hole >= 0) return { ok: false, reason: `stream byte ${hole} of ${sent.length} never appeared on the wire`, segments, retransmitted };
  for (let i = 0; i < sent.length; i++) {
    if (stream[i] !== sent[i])
      return {
        ok: false,
        reason: `stream byte ${i} is 0x${stream[i]!.toString(16)} on the wire, 0x${sent[i]!.toString(16)} was written`,
        segments,
        retransmitted,
      };
  }
  return { ok: true, segments, retransmitted };
}

/** A datagram as the peer's ordinary socket received it. */
export interface PeerDatagram {
  payload: Buffer;
  from: string;
  port: number;
}

/**
 * What the peer's own socket got against what was sent (multiset on the bytes):
 * the receiving stack's word on lengths and checksums, which no capture gives.
 */
export function accountDelivered(
  sent: readonly Buffer[],
  delivered: readonly PeerDatagram[],
  from: { addr: string; port: number },
): { missing: number; unexpected: number; wrongSource: number; firstUnexpected?: string } {
  const want = new Map<string, number>();
  for (const p of sent) want.set(p.toString('hex'), (want.get(p.toString('hex')) ?? 0) + 1);
  let unexpected = 0;
  let wrongSource = 0;
  let firstUnexpected: string | undefined;
  for (const d of delivered) {
    const key = d.payload.toString('hex');
    const n = want.get(key) ?? 0;
    if (n === 0) {
      unexpected++;
      firstUnexpected ??= `${d.payload.length} bytes from ${d.from} port ${d.port}`;
      continue;
    }
    want.set(key, n - 1);
    if (canonicalIp(d.from) !== canonicalIp(from.addr) || d.port !== from.port) wrongSource++;
  }
  let missing = 0;
  for (const n of want.values()) missing += n;
  return { missing, unexpected, wrongSource, firstUnexpected };
}
