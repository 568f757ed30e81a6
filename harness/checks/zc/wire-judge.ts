/**
 * The frames of one zc TCP stream as the peer captured them: each frame's
 * length against its IP header (truncated, or longer than the packet), its
 * IPv4 header checksum, its TCP checksum (or CHECKSUM_PARTIAL seed), and its
 * payload against the bytes the DUT was given at that stream offset. Each
 * kind of fault has its own message. Pure.
 */
import { checkPartialSeed, partialOffsets, verifyL4 } from '../../codec/index.js';
import { frameShapeFaults } from '../frame-shape.js';
import type { WireFrame } from '../wire.js';
import { fillExpected, type StreamSpec, streamLength } from '../../codec/zc/pattern.js';

const TCP_SYN = 0x02;
/** Examples kept per kind of fault; the count says how many there were. */
const EXAMPLES = 2;

export interface AlteredBytes {
  /** Payload bytes that differ from what the DUT was given. */
  bytes: number;
  frames: number;
  first: { frame: number; streamOffset: number; frameOffset: number; expected: string; found: string };
}

export interface StreamFrameFindings {
  /** Frames of the flow (DUT to peer) captured. */
  frames: number;
  /** Of them, frames that carried payload. */
  dataFrames: number;
  payloadBytes: number;
  /** Frames the capture kept shorter than they were on the wire (snap length): judged on what was kept. */
  cutByCapture: number;
  faults: string[];
  altered?: AlteredBytes;
  /** Why payload could not be placed in the stream (no SYN captured), when it could not. */
  unplaced?: string;
}

/** Collects faults of one kind: how many, and the first few as examples. */
class Kind {
  count = 0;
  readonly examples: string[] = [];
  constructor(readonly what: string) {}
  add(example: string): void {
    this.count++;
    if (this.examples.length < EXAMPLES) this.examples.push(example);
  }
  text(total: number): string | undefined {
    if (this.count === 0) return undefined;
    return `${this.count} of ${total} captured frame(s) ${this.what}: ${this.examples.join('; ')}${this.count > EXAMPLES ? '; …' : ''}`;
  }
}

const hex16 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

/** Judges the captured frames of the stream whose bytes are `spec`, sent from `src` to `dst:dport`. */
export function judgeStreamFrames(
  all: readonly WireFrame[],
  flow: { src: string; dst: string; dport: number },
  spec: StreamSpec,
): StreamFrameFindings {
  const frames = all.filter((f) => {
    const { ip, l4 } = f.parsed;
    return ip?.src === flow.src && ip.dst === flow.dst && l4?.kind === 'tcp' && l4.dport === flow.dport;
  });
  const total = streamLength(spec);
  const truncated = new Kind('are truncated (shorter than their IP header says)');
  const tooLong = new Kind('are longer than their IP packet (wrong length field)');
  const ipCsum = new Kind('carry a wrong IPv4 header checksum');
  const l4Csum = new Kind('carry a wrong TCP checksum');
  const beyond = new Kind('carry payload past the end of the stream');
  const out: StreamFrameFindings = { frames: frames.length, dataFrames: 0, payloadBytes: 0, cutByCapture: 0, faults: [] };
  const syn = frames.find((f) => ((f.parsed.l4?.tcp?.flags ?? 0) & TCP_SYN) !== 0);
  if (!syn) out.unplaced = 'no SYN of the connection was captured: payload cannot be placed in the stream';
  const isn = syn?.parsed.l4?.tcp?.seq ?? 0;
  let altered: AlteredBytes | undefined;
  for (const f of frames) {
    const ip = f.parsed.ip!;
    const onWire = Math.max(f.raw.len, f.data.length);
    const cut = f.raw.len > f.data.length;
    if (cut) out.cutByCapture++;
    const ipEnd = ip.offset + ip.totalLen;
    for (const fault of frameShapeFaults(f)) {
      if (fault.kind === 'truncated')
        truncated.add(`#${f.index}: ${ip.totalLen} bytes of IP packet declared, ${onWire - ip.offset} on the wire`);
      else if (fault.kind === 'wrong-length')
        tooLong.add(`#${f.index}: ${onWire - ip.offset} bytes of IP packet on the wire, ${ip.totalLen} declared`);
      else if (fault.kind === 'ip-header-checksum' && ip.family === 4) ipCsum.add(`#${f.index}: ${hex16(ip.headerChecksum)}`);
    }
    if (!cut && onWire >= ipEnd) {
      const bad = tcpChecksumFault(f);
      if (bad) l4Csum.add(`#${f.index}: ${bad}`);
    }
    const pl = f.parsed.payload;
    const tcp = f.parsed.l4!.tcp!;
    if (!pl || pl.length === 0) continue;
    out.dataFrames++;
    out.payloadBytes += pl.length;
    if (!syn) continue;
    const rel = (tcp.seq - isn - 1) >>> 0;
    const got = f.data.subarray(pl.offset, pl.offset + pl.length);
    const inStream = Math.max(0, Math.min(got.length, total - rel));
    if (inStream < got.length) beyond.add(`#${f.index}: ${got.length - inStream} byte(s) from stream offset ${rel + inStream}`);
    if (inStream === 0) continue;
    const want = Buffer.alloc(inStream);
    fillExpected(want, spec, rel);
    if (want.equals(got.subarray(0, inStream))) continue;
    let first = -1;
    let wrong = 0;
    for (let i = 0; i < inStream; i++)
      if (got[i] !== want[i]) {
        wrong++;
        if (first < 0) first = i;
      }
    altered ??= {
      bytes: 0,
      frames: 0,
      first: {
        frame: f.index,
        streamOffset: rel + first,
        frameOffset: pl.offset + first,
        expected: want.subarray(first, first + 16).toString('hex'),
        found: got.subarray(first, first + 16).toString('hex'),
      },
    };
    altered.bytes += wrong;
    altered.frames++;
  }
  for (const k of [truncated, tooLong, ipCsum, l4Csum, beyond]) {
    const t = k.text(frames.length);
    if (t) out.faults.push(t);
  }
  if (altered) {
    const a = altered.first;
    out.altered = altered;
    out.faults.push(
      `${altered.frames} captured frame(s) carry ${altered.bytes} payload byte(s) the DUT was not given, first in frame #${a.frame} at stream offset ${a.streamOffset} (frame offset ${a.frameOffset}): expected ${a.expected}, found ${a.found}`,
    );
  }
  return out;
}

/** The TCP checksum as the wire carries it: complete and correct, or a correct CHECKSUM_PARTIAL seed. */
function tcpChecksumFault(f: WireFrame): string | undefined {
  if (f.csumValid) return undefined;
  if (f.partial) {
    const offs =
      f.csumStart !== undefined && f.csumOffset !== undefined
        ? { csumStart: f.csumStart, csumOffset: f.csumOffset }
        : partialOffsets(f.data);
    if (!offs) return 'arrived CHECKSUM_PARTIAL without a TCP checksum field';
    const v = checkPartialSeed(f.data, offs.csumStart, offs.csumOffset);
    return v.ok
      ? undefined
      : `CHECKSUM_PARTIAL with a wrong seed (${v.reason ?? `expected ${hex16(v.expected)}, found ${hex16(v.found)}`})`;
  }
  const v = verifyL4(f.data);
  return v.state === 'bad' ? `${hex16(v.found)}, expected ${hex16(v.expected)}` : undefined;
}
