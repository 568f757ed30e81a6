/**
 * UDP segmentation verdict rules (pure). Each send hands the stack one buffer
 * with UDP_SEGMENT; it must become datagrams of gso_size bytes (the last one
 * shorter), each with right lengths and a right checksum (or, delivered
 * CHECKSUM_PARTIAL, the right seed). A super-frame that reached the peer
 * whole (veth, lo) is judged as the datagrams it will become.
 */
import { checkPartialSeed, gsoSegment, parseFrame, verifyL4, type ParsedFrame } from '../../codec/index.js';
import { GSO_UDP_L4 } from '../tso/judge.js';
import type { WireFrame } from '../wire.js';

export interface UsoSend {
  bytes: number;
  gsoSize: number;
}

/** One datagram the sends must become: which send, which part, its payload. */
export interface PlannedDatagram {
  send: number;
  part: number;
  parts: number;
  payload: Buffer;
}

/** The datagrams `sends` become, in order, cut from one stream of bytes. */
export function planDatagrams(stream: Buffer, sends: readonly UsoSend[]): PlannedDatagram[] {
  const out: PlannedDatagram[] = [];
  let off = 0;
  sends.forEach((s, send) => {
    const parts = Math.ceil(s.bytes / s.gsoSize);
    for (let part = 0; part < parts; part++) {
      const len = Math.min(s.gsoSize, s.bytes - part * s.gsoSize);
      out.push({ send, part, parts, payload: stream.subarray(off + part * s.gsoSize, off + part * s.gsoSize + len) });
    }
    off += s.bytes;
  });
  return out;
}

/** Names a planned datagram for people: "datagram 3 of 12 of send 2 (the short last one, 517 bytes)". */
export function nameDatagram(d: PlannedDatagram, sends: number): string {
  const last = d.part === d.parts - 1 ? (d.parts > 1 ? ', the last one' : '') : '';
  return `datagram ${d.part + 1} of ${d.parts} of send ${d.send + 1} of ${sends} (${d.payload.length} bytes${last})`;
}

export interface DatagramFault {
  index: number;
  part: number;
  reason: string;
}

export interface UsoTally {
  frames: number;
  superFrames: number;
  superDatagrams: number;
  /** Datagrams on the wire (cut ones counted). */
  datagrams: number;
  completeChecksums: number;
  partialChecksums: number;
  /** Planned datagrams never seen on the wire. */
  missingOnWire: PlannedDatagram[];
  /** Planned datagrams seen more than once. */
  duplicates: number;
  faults: DatagramFault[];
}

const hex16 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

interface Dg {
  index: number;
  part: number;
  data: Buffer;
  p: ParsedFrame;
  cut: boolean;
  partial: boolean;
}

/** Judges the flow's frames against the datagrams planned. */
export function judgeDatagrams(frames: readonly WireFrame[], plan: readonly PlannedDatagram[], mtu: number, sends: number): UsoTally {
  const t: UsoTally = {
    frames: frames.length,
    superFrames: 0,
    superDatagrams: 0,
    datagrams: 0,
    completeChecksums: 0,
    partialChecksums: 0,
    missingOnWire: [],
    duplicates: 0,
    faults: [],
  };
  const dgs: Dg[] = [];
  for (const f of frames) {
    const fault = (reason: string): void => void t.faults.push({ index: f.index, part: 0, reason });
    const { ip, l4 } = f.parsed;
    if (!ip || !l4?.udp) {
      fault(`not a whole UDP frame: ${f.parsed.error ?? 'unparsable'}`);
      continue;
    }
    const bad = lengthFaults(f.data, f.parsed, f.raw.len);
    if (ip.family === 4 && !ip.headerChecksumOk) fault(`IPv4 header checksum ${hex16(ip.headerChecksum)} is wrong`);
    if (bad.length > 0) {
      bad.forEach(fault);
      continue;
    }
    const gsoSize = f.raw.gsoSize ?? 0;
    const dataLen = f.parsed.payload?.length ?? 0;
    if (gsoSize > 0 && dataLen > gsoSize) {
      const n = Math.ceil(dataLen / gsoSize);
      const what = `super-frame of ${f.data.length} bytes (${n} datagrams of ${gsoSize})`;
      if (((f.raw.gsoType ?? 0) & 0x7f) !== GSO_UDP_L4)
        fault(`${what} has GSO type ${f.raw.gsoType ?? 0}, expected ${GSO_UDP_L4} (UDP_L4)`);
      if (!f.partial) fault(`${what} is not CHECKSUM_PARTIAL: its datagrams would all carry the super-frame's own sum`);
      else {
        const v = checkPartialSeed(f.data, f.csumStart ?? l4.offset, f.csumOffset ?? 6);
        if (!v.ok) fault(`${what} carries a wrong checksum seed, so all ${n} datagrams would: ${v.reason ?? ''}`);
      }
      const cut = gsoSegment(f.data, gsoSize);
      if (cut.error) {
        fault(`super-frame cannot be cut: ${cut.error}`);
        continue;
      }
      t.superFrames++;
      t.superDatagrams += cut.segments.length;
      cut.segments.forEach((data, part) => dgs.push({ index: f.index, part, data, p: parseFrame(data), cut: true, partial: true }));
      continue;
    }
    if (ip.totalLen > mtu) fault(`IP packet of ${ip.totalLen} bytes exceeds the DUT's MTU ${mtu} (not a GSO super-frame)`);
    dgs.push({ index: f.index, part: 0, data: f.data, p: f.parsed, cut: false, partial: f.partial });
  }
  const want = new Map<string, PlannedDatagram[]>();
  for (const d of plan) {
    const k = d.payload.toString('hex');
    want.set(k, [...(want.get(k) ?? []), d]);
  }
  const seen = new Set<PlannedDatagram>();
  for (const d of dgs) {
    t.datagrams++;
    const fault = (reason: string): void =>
      void t.faults.push({ index: d.index, part: d.part, reason: d.cut ? `${reason} (datagram ${d.part + 1} of a super-frame)` : reason });
    if (d.cut) t.partialChecksums++;
    else if (d.partial) {
      const v = checkPartialSeed(d.data, d.p.l4!.offset, 6);
      if (v.ok) t.partialChecksums++;
      else fault(`CHECKSUM_PARTIAL with a wrong seed: ${v.reason ?? ''}`);
    } else {
      const v = verifyL4(d.data);
      if (v.state === 'good') t.completeChecksums++;
      else if (v.state === 'absent') fault('UDP checksum is 0 (absent), but the sender asked for one');
      else fault(`UDP checksum ${hex16(v.found)} is wrong, expected ${hex16(v.expected)}${v.reason ? ` (${v.reason})` : ''}`);
    }
    const pl = d.p.payload!;
    const key = d.data.subarray(pl.offset, pl.offset + pl.length).toString('hex');
    const match = want.get(key)?.find((w) => !seen.has(w));
    if (match) seen.add(match);
    else if (want.has(key)) t.duplicates++;
    else fault(`datagram of ${pl.length} bytes matches no datagram the sends should make (a wrong cut, or altered bytes)`);
  }
  t.missingOnWire = plan.filter((d) => !seen.has(d));
  void sends;
  return t;
}

/** Lengths that must agree: the capture and the frame, the IP header and the frame, UDP and IP. */
function lengthFaults(data: Buffer, p: ParsedFrame, wireLen: number): string[] {
  const ip = p.ip!;
  const udp = p.l4!.udp!;
  const lenName = ip.family === 4 ? `IPv4 total length ${ip.totalLen}` : `IPv6 payload length ${ip.totalLen - 40}`;
  const ipEnd = ip.offset + ip.totalLen;
  if (wireLen > data.length) return [`frame of ${wireLen} bytes was captured cut to ${data.length}: cannot be judged whole`];
  if (ipEnd > data.length) return [`${lenName} runs past the frame (${data.length - ip.offset} bytes after the link header)`];
  if (p.trailer > 0 && data.length > 60) return [`${lenName} leaves ${p.trailer} bytes of the ${data.length}-byte frame unaccounted for`];
  const l4Len = ipEnd - p.l4!.offset;
  // A GSO super-frame over 64 KiB may carry 0 in its UDP length; ours stay below.
  if (udp.length !== l4Len) return [`UDP length ${udp.length} disagrees with the ${l4Len} bytes the IP header gives`];
  return [];
}

/** Datagrams the peer's socket read, against the plan: missing and unexpected ones. */
export function accountDelivered(
  plan: readonly PlannedDatagram[],
  delivered: readonly Buffer[],
): { missing: PlannedDatagram[]; unexpected: number; duplicates: number } {
  const want = new Map<string, PlannedDatagram[]>();
  for (const d of plan) {
    const k = d.payload.toString('hex');
    want.set(k, [...(want.get(k) ?? []), d]);
  }
  const seen = new Set<PlannedDatagram>();
  let unexpected = 0;
  let duplicates = 0;
  for (const b of delivered) {
    const k = b.toString('hex');
    const m = want.get(k)?.find((w) => !seen.has(w));
    if (m) seen.add(m);
    else if (want.has(k)) duplicates++;
    else unexpected++;
  }
  return { missing: plan.filter((d) => !seen.has(d)), unexpected, duplicates };
}
