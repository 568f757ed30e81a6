/**
 * Segment-by-segment verdict rules for one TCP connection DUT → peer (pure).
 * What the peer captured is the truth. A GSO super-frame that reached the
 * peer whole (veth, lo) is judged as the segments it will become: its seed
 * for its own length (which the cut moves to each segment's length), then
 * each segment the cut yields. Every other frame is one wire segment.
 */
import {
  checkPartialSeed,
  gsoSegment,
  parseFrame,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  verifyL4,
  type ParsedFrame,
} from '../../codec/index.js';
import type { WireFrame } from '../wire.js';

/** virtio_net_hdr gso_type values (include/uapi/linux/virtio_net.h). */
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 4;
export const GSO_UDP_L4 = 5;
export const GSO_ECN = 0x80;

/** TCP option kinds. */
const TCPOPT_NOP = 1;
const TCPOPT_TIMESTAMP = 8;
/** An IPv4 ID this far ahead of the one due means frames lost in between; further (or behind) is a wrong ID. */
export const ID_GAP_LIMIT = 1024;

export interface TcpFlowExpect {
  family: 4 | 6;
  /** The bytes written, in order. */
  stream: Buffer;
  /** Sizes of the writes that made the stream. */
  writes: readonly number[];
  /** Data plus TCP options of one segment may not exceed this (TCP_MAXSEG, or the MTU's MSS). */
  mss: number;
  /** The DUT's MTU: a frame that is not a super-frame carries an IP packet no longer than this. */
  mtu: number;
  /** Every segment after the SYN carries the timestamp option (on) or none does (off). */
  timestamps: boolean;
  /** tx-tcp-mangleid-segmentation active: the IPv4 ID may stay fixed within one hardware cut. */
  mangleId: boolean;
  /** ECN was negotiated (TCP_INFO): CWR/ECE may appear. */
  ecn: boolean;
  /** The connection was reset after a stall: no FIN is due. */
  reset: boolean;
  /** Stream offsets where a send() call ended inside a write: the kernel may push (PSH) there too. */
  shortSends?: readonly number[];
}

export interface SegmentFault {
  /** Capture index of the frame, and the segment of a super-frame's cut (0 for a plain frame). */
  index: number;
  part: number;
  reason: string;
}

export interface SegmentTally {
  /** Frames of the flow captured (super-frames counted once). */
  frames: number;
  superFrames: number;
  /** Segments the super-frames become. */
  superSegments: number;
  /** Largest super-frame seen: bytes and segments. */
  largestSuper: { bytes: number; segments: number };
  /** Segments that carry data (wire segments and cut segments). */
  dataSegments: number;
  /** Data segments whose every byte had been seen before (retransmissions on the wire). */
  duplicates: number;
  /** Places where a first transmission skipped bytes that came later (lost and sent again). */
  gaps: { from: number; to: number }[];
  completeChecksums: number;
  partialChecksums: number;
  /** IPv4 IDs kept fixed within a cut (allowed with mangleid). */
  fixedIds: number;
  pshSegments: number;
  /** IPv4: frames the DUT sent (their IDs were used) that never reached the peer. */
  lostFrames: number;
  /** IP fragments of the flow: a stream cut into fragments instead of segments. */
  fragments: number;
  faults: SegmentFault[];
}

interface Seg {
  index: number;
  part: number;
  data: Buffer;
  p: ParsedFrame;
  partial: boolean;
  /** Cut from a super-frame: its checksum follows from the super-frame's seed. */
  cut: boolean;
  /** Segments of the super-frame it came from (1 for a plain frame). */
  of: number;
}

const hex16 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
const hex8 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** Where stream offset `at` lies, for people: "write 2 of 4 (its last byte)". */
export function whereInWrites(writes: readonly number[], at: number): string {
  const w = writeOf(writes, at);
  if (!w) return 'past the last write';
  return `write ${w.k + 1} of ${writes.length}${at === w.end - 1 ? ', its last byte' : ''}`;
}

function writeOf(writes: readonly number[], at: number): { k: number; start: number; end: number } | undefined {
  let start = 0;
  for (const [k, w] of writes.entries()) {
    const end = start + w;
    if (at < end) return { k, start, end };
    start = end;
  }
  return undefined;
}

/** Stream bytes from..to (inclusive) in terms of the writes: "bytes 100–399 of write 2 of 3 (its end)". */
export function describeRange(writes: readonly number[], from: number, to: number): string {
  const a = writeOf(writes, from);
  const b = writeOf(writes, to);
  if (!a || !b) return `stream bytes ${from}–${to}`;
  if (a.k !== b.k) return `stream bytes ${from}–${to} (from write ${a.k + 1} to write ${b.k + 1} of ${writes.length})`;
  const end = to === b.end - 1 ? ', its end' : '';
  return `stream bytes ${from}–${to} (bytes ${from - a.start}–${to - a.start} of write ${a.k + 1} of ${writes.length}${end})`;
}

/** Judges every frame and every segment of one connection's DUT → peer direction. */
export function judgeSegments(frames: readonly WireFrame[], x: TcpFlowExpect): SegmentTally {
  const t: SegmentTally = {
    frames: frames.length,
    superFrames: 0,
    superSegments: 0,
    largestSuper: { bytes: 0, segments: 0 },
    dataSegments: 0,
    duplicates: 0,
    gaps: [],
    completeChecksums: 0,
    partialChecksums: 0,
    fixedIds: 0,
    pshSegments: 0,
    lostFrames: 0,
    fragments: 0,
    faults: [],
  };
  const fault = (s: { index: number; part: number }, reason: string): void => {
    t.faults.push({ index: s.index, part: s.part, reason });
  };
  const segs: Seg[] = [];
  for (const f of frames) {
    if (f.parsed.ip?.fragment) t.fragments++;
    const pre = frameFaults(f, x);
    for (const r of pre.faults) fault({ index: f.index, part: 0 }, r);
    // A frame whose lengths are wrong cannot be placed in the stream; one with a wrong sum or seed still can.
    if (pre.whole === false || !f.parsed.l4?.tcp) continue;
    const gsoSize = f.raw.gsoSize ?? 0;
    if (gsoSize > 0 && (f.parsed.payload?.length ?? 0) > gsoSize) {
      const cut = gsoSegment(f.data, gsoSize);
      if (cut.error) {
        fault({ index: f.index, part: 0 }, `super-frame cannot be cut: ${cut.error}`);
        continue;
      }
      t.superFrames++;
      t.superSegments += cut.segments.length;
      if (f.data.length > t.largestSuper.bytes) t.largestSuper = { bytes: f.data.length, segments: cut.segments.length };
      cut.segments.forEach((data, part) =>
        segs.push({ index: f.index, part, data, p: parseFrame(data), partial: true, cut: true, of: cut.segments.length }),
      );
    } else {
      segs.push({ index: f.index, part: 0, data: f.data, p: f.parsed, partial: f.partial, cut: false, of: 1 });
    }
  }
  judgeSegmentRules(segs, x, t, fault);
  judgeStream(segs, x, t, fault);
  return t;
}

/** Rules on one captured frame as it arrived: headers, lengths, checksum (or a super-frame's seed). */
function frameFaults(f: WireFrame, x: TcpFlowExpect): { faults: string[]; whole: boolean } {
  const { ip, l4 } = f.parsed;
  if (ip?.fragment)
    return {
      faults: [
        `IPv${ip.family} fragment (offset ${ip.fragment.offset}${ip.fragment.more ? ', more fragments' : ''}, ${ip.totalLen} bytes): the TCP stream was cut into IP fragments, not TCP segments`,
      ],
      whole: false,
    };
  if (!ip || !l4?.tcp) return { faults: [`not a whole TCP/IPv${x.family} frame: ${f.parsed.error ?? 'unparsable'}`], whole: false };
  const lengths: string[] = [];
  const out: string[] = [];
  if (ip.family === 4 && !ip.headerChecksumOk) out.push(`IPv4 header checksum ${hex16(ip.headerChecksum)} is wrong`);
  const ipEnd = ip.offset + ip.totalLen;
  const lenName = ip.family === 4 ? `IPv4 total length ${ip.totalLen}` : `IPv6 payload length ${ip.totalLen - 40}`;
  if (f.raw.len > f.data.length) lengths.push(`frame of ${f.raw.len} bytes was captured cut to ${f.data.length}: cannot be judged whole`);
  else if (ipEnd > f.data.length) lengths.push(`${lenName} runs past the frame (${f.data.length - ip.offset} bytes after the link header)`);
  else if (f.parsed.trailer > 0 && f.data.length > 60)
    lengths.push(`${lenName} leaves ${f.parsed.trailer} bytes of the ${f.data.length}-byte frame unaccounted for`);
  if (lengths.length > 0) return { faults: [...out, ...lengths], whole: false };
  const gsoSize = f.raw.gsoSize ?? 0;
  const dataLen = f.parsed.payload?.length ?? 0;
  if (gsoSize > 0 && dataLen > gsoSize) {
    const want = x.family === 4 ? GSO_TCPV4 : GSO_TCPV6;
    const type = (f.raw.gsoType ?? 0) & ~GSO_ECN;
    const segs = Math.ceil(dataLen / gsoSize);
    const what = `super-frame of ${f.data.length} bytes (${segs} segments of ${gsoSize})`;
    if (type !== want) out.push(`${what} has GSO type ${type}, expected ${want} (TCPv${x.family})`);
    if (!f.partial) {
      out.push(`${what} is not CHECKSUM_PARTIAL: its segments would all carry the super-frame's own sum`);
    } else {
      const v = checkPartialSeed(f.data, f.csumStart ?? l4.offset, f.csumOffset ?? 16);
      if (!v.ok) out.push(`${what} carries a wrong checksum seed, so all ${segs} segments would: ${v.reason ?? ''}`);
    }
    return { faults: out, whole: true };
  }
  if (ip.totalLen > x.mtu) out.push(`IP packet of ${ip.totalLen} bytes exceeds the DUT's MTU ${x.mtu} (not a GSO super-frame)`);
  return { faults: out, whole: true };
}

/**
 * IPv4 IDs one apart per segment, judged in the order the stack gave them (each segment's ID relative to the
 * first's): a link that reorders frames (veth queues per CPU) moves no ID, while a skipped ID is a frame that never
 * arrived and a repeated one a segment the stack never counted. Equal IDs keep their arrival order.
 */
function judgeIpIds(
  segs: readonly Seg[],
  x: TcpFlowExpect,
  t: SegmentTally,
  fault: (s: { index: number; part: number }, reason: string) => void,
): void {
  const v4 = segs.filter((s) => s.p.ip?.family === 4);
  const base = v4[0]?.p.ip?.family === 4 ? v4[0].p.ip.id : 0;
  const idOf = (s: Seg) => (s.p.ip?.family === 4 ? s.p.ip.id : 0);
  const ordered = [...v4].sort((a, b) => ((idOf(a) - base) & 0xffff) - ((idOf(b) - base) & 0xffff));
  let prevId: number | undefined;
  let prevEmpty = false;
  let expectedId: number | undefined;
  for (const s of ordered) {
    const id = idOf(s);
    const tcp = s.p.l4!.tcp!;
    const dataLen = s.p.payload?.length ?? 0;
    const where = s.cut ? ` (segment ${s.part + 1} of ${s.of} of a super-frame)` : '';
    const ahead = expectedId === undefined ? 0 : (id - expectedId) & 0xffff;
    if (expectedId === undefined || ahead === 0) expectedId = (id + 1) & 0xffff;
    else if (x.mangleId && id === prevId) {
      // A cut that kept its super-frame's ID: the stack still counted one ID per segment.
      t.fixedIds++;
      expectedId = (expectedId + 1) & 0xffff;
    } else if (ahead < ID_GAP_LIMIT) {
      // The IDs skipped belong to frames the DUT sent that never arrived.
      t.lostFrames += ahead;
      expectedId = (id + 1) & 0xffff;
    } else {
      // A header-only segment just before, holding this very ID: the device made a segment the stack never counted.
      const extra = id === prevId && prevEmpty ? '; the header-only segment before it carried the same ID' : '';
      fault(
        s,
        `IPv4 ID ${id} where ${expectedId} was due (one more than the previous segment's)${where}${x.mangleId ? '' : '; tx-tcp-mangleid-segmentation is off'}${extra}`,
      );
      expectedId = (id + 1) & 0xffff;
    }
    prevId = id;
    prevEmpty = dataLen === 0 && !(tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST));
  }
}

function judgeSegmentRules(
  segs: readonly Seg[],
  x: TcpFlowExpect,
  t: SegmentTally,
  fault: (s: { index: number; part: number }, reason: string) => void,
): void {
  const first = segs[0]?.p.ip;
  const from = t.faults.length;
  let lastTs: number | undefined;
  let layout: string | undefined;
  for (const s of segs) {
    const ip = s.p.ip!;
    const tcp = s.p.l4!.tcp!;
    const dataLen = s.p.payload?.length ?? 0;
    const where = s.cut ? ` (segment ${s.part + 1} of ${s.of} of a super-frame)` : '';
    // Checksum: every plain frame; a cut segment follows from its super-frame's seed, judged once above.
    if (s.cut) t.partialChecksums++;
    else if (s.partial) {
      const v = checkPartialSeed(s.data, s.p.l4!.offset, 16);
      if (v.ok) t.partialChecksums++;
      else fault(s, `CHECKSUM_PARTIAL with a wrong seed: ${v.reason ?? ''}`);
    } else {
      const v = verifyL4(s.data);
      if (v.state === 'good') t.completeChecksums++;
      else if (v.state === 'unchecked') fault(s, `TCP checksum could not be checked: ${v.reason ?? ''}`);
      else fault(s, `TCP checksum ${hex16(v.found)} is wrong, expected ${hex16(v.expected)}${v.reason ? ` (${v.reason})` : ''}`);
    }
    // IP fields that every segment copies from the first.
    if (ip.family === 4 && first?.family === 4) {
      if (ip.df !== first.df || ip.ttl !== first.ttl || ip.tos !== first.tos)
        fault(
          s,
          `IPv4 DF/TTL/TOS ${+ip.df}/${ip.ttl}/${ip.tos} differ from the connection's ${+first.df}/${first.ttl}/${first.tos}${where}`,
        );
    } else if (ip.family === 6 && first?.family === 6 && (ip.hopLimit !== first.hopLimit || ip.trafficClass !== first.trafficClass)) {
      fault(
        s,
        `IPv6 hop limit/traffic class ${ip.hopLimit}/${ip.trafficClass} differ from the connection's ${first.hopLimit}/${first.trafficClass}${where}`,
      );
    }
    // Flags.
    const f = tcp.flags;
    if (f & TCP_RST && !x.reset) fault(s, `RST on a connection that ended cleanly${where}`);
    if (f & TCP_URG) fault(s, `URG set, no urgent data was sent${where}`);
    if (f & TCP_SYN && (dataLen > 0 || tcp.seq !== segs[0]!.p.l4!.tcp!.seq)) fault(s, `SYN on a segment after the handshake${where}`);
    if (!(f & TCP_SYN) && !(f & TCP_ACK) && !(f & TCP_RST)) fault(s, `ACK missing from a segment after the handshake${where}`);
    if (f & (TCP_CWR | TCP_ECE) && !(f & TCP_SYN) && !x.ecn) fault(s, `${f & TCP_CWR ? 'CWR' : 'ECE'} set, ECN was not negotiated${where}`);
    if (f & TCP_PSH && dataLen > 0) t.pshSegments++;
    // The stack pushes data, never an empty segment: one is a segment the sender made of headers alone.
    if (f & TCP_PSH && dataLen === 0 && !(f & (TCP_SYN | TCP_FIN | TCP_RST)))
      fault(s, `PSH on a header-only segment (no data, seq ${(tcp.seq - segs[0]!.p.l4!.tcp!.seq - 1) >>> 0} of the stream)${where}`);
    // Options: the timestamp option on every segment (or none), the same layout on every data segment.
    if (!(f & TCP_SYN) && !(f & TCP_RST)) {
      const ts = tcp.options.find((o) => o.kind === TCPOPT_TIMESTAMP);
      if (x.timestamps && !ts) fault(s, `timestamp option missing (timestamps are on)${where}`);
      if (!x.timestamps && ts) fault(s, `timestamp option present (timestamps are off)${where}`);
      if (ts && ts.length === 10) {
        const val = s.data.readUInt32BE(ts.offset + 2);
        if (lastTs !== undefined && ((val - lastTs) | 0) < 0) fault(s, `TSval ${val} goes back from ${lastTs}${where}`);
        lastTs = val;
      }
      if (dataLen > 0) {
        const kinds = tcp.options
          .map((o) => o.kind)
          .filter((k) => k !== TCPOPT_NOP)
          .join(',');
        if (layout === undefined) layout = kinds;
        else if (kinds !== layout) fault(s, `TCP options [${kinds}] differ from the other data segments' [${layout}]${where}`);
      }
    }
    if (dataLen > 0 && dataLen + tcp.hdrLen - 20 > x.mss)
      fault(s, `segment of ${dataLen} data + ${tcp.hdrLen - 20} option bytes exceeds the MSS ${x.mss}${where}`);
  }
  judgeIpIds(segs, x, t, fault);
  // The IDs were judged in the stack's order: their faults join the others in the capture's.
  const mine = t.faults.splice(from).sort((a, b) => a.index - b.index || a.part - b.part);
  t.faults.push(...mine);
}

function judgeStream(
  segs: readonly Seg[],
  x: TcpFlowExpect,
  t: SegmentTally,
  fault: (s: { index: number; part: number }, reason: string) => void,
): void {
  const syn = segs.find((s) => s.p.l4!.tcp!.flags & TCP_SYN);
  if (!syn) {
    fault({ index: -1, part: 0 }, 'no SYN of the connection was captured: its segments cannot be placed');
    return;
  }
  const isn = syn.p.l4!.tcp!.seq;
  const total = x.stream.length;
  const have = new Uint8Array(total);
  let high = 0;
  const ends = new Map<number, boolean>();
  let finSeen = false;
  for (const s of segs) {
    const tcp = s.p.l4!.tcp!;
    if (tcp.flags & TCP_SYN) continue;
    const pl = s.p.payload!;
    const rel = (tcp.seq - isn - 1) >>> 0;
    const where = s.cut ? ` (segment ${s.part + 1} of ${s.of} of a super-frame)` : '';
    if (tcp.flags & TCP_FIN) {
      finSeen = true;
      if (rel + pl.length !== total)
        fault(
          s,
          `FIN on a segment ending at stream byte ${rel + pl.length}, the stream ends at ${total} (${whereInWrites(x.writes, rel + pl.length - 1)})${where}`,
        );
    }
    if (pl.length === 0) continue;
    t.dataSegments++;
    if (rel >= total || rel + pl.length > total) {
      fault(s, `segment at stream offset ${rel} (+${pl.length}) runs past the ${total} bytes written${where}`);
      continue;
    }
    const bytes = s.data.subarray(pl.offset, pl.offset + pl.length);
    const bad = bytes.findIndex((b, i) => b !== x.stream[rel + i]);
    if (bad >= 0) {
      fault(
        s,
        `stream byte ${rel + bad} is ${hex8(bytes[bad]!)} on the wire, ${hex8(x.stream[rel + bad]!)} was written (${whereInWrites(x.writes, rel + bad)})${where}`,
      );
      continue;
    }
    if (rel > high) t.gaps.push({ from: high, to: rel });
    let again = true;
    for (let i = 0; i < pl.length; i++) {
      if (!have[rel + i]) again = false;
      have[rel + i] = 1;
    }
    if (again) t.duplicates++;
    high = Math.max(high, rel + pl.length);
    const end = rel + pl.length;
    ends.set(end, (ends.get(end) ?? false) || (tcp.flags & TCP_PSH) !== 0);
  }
  // Holes: bytes never on the wire, named by the write they belong to.
  for (let i = 0; i < total;) {
    if (have[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < total && !have[j]) j++;
    fault({ index: -1, part: 0 }, `${describeRange(x.writes, i, j - 1)} never appeared on the wire`);
    i = j;
  }
  if (!x.reset && !finSeen) fault({ index: -1, part: 0 }, 'no FIN on the wire, though the DUT closed the connection cleanly');
  // Each write was acknowledged before the next: its last byte ends a segment, and that segment is pushed.
  let end = 0;
  x.writes.forEach((w, i) => {
    end += w;
    if (end > high) return;
    const psh = ends.get(end);
    if (psh === undefined)
      fault({ index: -1, part: 0 }, `no segment ends at the end of write ${i + 1} (stream byte ${end}): segments straddle it`);
    else if (!psh) fault({ index: -1, part: 0 }, `the segment ending write ${i + 1} (stream byte ${end}) carries no PSH`);
  });
  pushSpacing(ends, x, fault);
}

/**
 * PSH inside a write comes only from the stack's forced pushes, at least half the peer's
 * window apart (at least five segments): PSH on neighbouring segments inside one write means
 * a device copied it onto every segment of its cut. Two such neighbours make the fault.
 */
function pushSpacing(
  ends: ReadonlyMap<number, boolean>,
  x: TcpFlowExpect,
  fault: (s: { index: number; part: number }, reason: string) => void,
): void {
  // Every send() call ends in a push: the ends of writes and of the calls that took part of one.
  const writeEnds = new Set<number>(x.shortSends ?? []);
  let at = 0;
  for (const w of x.writes) writeEnds.add((at += w));
  const pushed = [...ends.entries()]
    .filter(([, psh]) => psh)
    .map(([end]) => end)
    .sort((a, b) => a - b);
  const close: number[] = [];
  for (let i = 1; i < pushed.length; i++) {
    const [a, b] = [pushed[i - 1]!, pushed[i]!];
    if (writeEnds.has(b) || writeEnds.has(a)) continue;
    if (b - a <= x.mss && writeOf(x.writes, a - 1)?.k === writeOf(x.writes, b - 1)?.k) close.push(b);
  }
  if (close.length >= 2)
    fault(
      { index: -1, part: 0 },
      `PSH on ${close.length + 1} neighbouring segments inside writes (first ending at stream byte ${close[0]!}, ${whereInWrites(x.writes, close[0]! - 1)}): PSH belongs on the last segment of a cut only`,
    );
}
