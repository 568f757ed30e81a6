/**
 * Hand-made TCP segments into a connection the peer's kernel opened and then
 * left idle (pure): read the handshake, build good segments and corrupted
 * copies at the same sequence numbers, and decide what to send next from the
 * DUT's ACKs and window, like a minimal sender.
 */
import { buildTcpFrame, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, tcpOpt, verifyL4, type IpFamily, type TcpInfo } from '../../codec/index.js';
import { createRng } from '../../codec/random.js';
import type { WireFrame } from '../wire.js';
import { wrongChecksum } from './plan.js';

/** The connection as the hand-made segments must continue it. */
export interface Handshake {
  /** Sequence number of the first data byte the peer sends (its ISN + 1). */
  seq: number;
  /** What the peer acknowledges (the DUT's ISN + 1). */
  ack: number;
  /** Timestamps to put in every segment, when the connection uses them (RFC 7323). */
  ts?: { val: number; ecr: number };
  /** The DUT's window scale shift (0 when it sent none). */
  wscale: number;
  /** The DUT's first window, in bytes. */
  window: number;
}

export interface TcpEnds {
  family: IpFamily;
  peerMac: string;
  dutMac: string;
  peer: string;
  dut: string;
  /** The peer's port (the held connection's local port) and the DUT's listening port. */
  sport: number;
  dport: number;
}

const TCPOPT_MSS = 2;
const TCPOPT_WSCALE = 3;
const TCPOPT_TIMESTAMP = 8;
/** The one length each option has (RFC 9293, 7323); Linux ignores an option of another size, and so do we. */
const OPTION_LENGTH: Readonly<Record<number, number>> = { [TCPOPT_MSS]: 4, [TCPOPT_WSCALE]: 3, [TCPOPT_TIMESTAMP]: 10 };

function option(tcp: TcpInfo, kind: number): number | undefined {
  return tcp.options.find((o) => o.kind === kind && o.length === OPTION_LENGTH[kind])?.offset;
}

/** Reads the handshake the peer's capture saw: the DUT's SYN-ACK and the peer's last ACK. */
export function readHandshake(frames: readonly WireFrame[], e: TcpEnds): Handshake | string {
  let synAck: { f: WireFrame; tcp: TcpInfo } | undefined;
  let ack: { f: WireFrame; tcp: TcpInfo } | undefined;
  for (const f of frames) {
    const { ip, l4 } = f.parsed;
    const tcp = l4?.tcp;
    if (!ip || !tcp) continue;
    if (
      ip.src === e.dut &&
      ip.dst === e.peer &&
      tcp.sport === e.dport &&
      tcp.dport === e.sport &&
      (tcp.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)
    )
      synAck = { f, tcp };
    if (ip.src === e.peer && ip.dst === e.dut && tcp.sport === e.sport && tcp.dport === e.dport && tcp.flags === TCP_ACK) ack = { f, tcp };
  }
  if (!synAck) return `no SYN-ACK from ${e.dut} port ${e.dport} to port ${e.sport} was captured`;
  if (!ack) return `no ACK completing the handshake from ${e.peer} port ${e.sport} was captured`;
  const wsOff = option(synAck.tcp, TCPOPT_WSCALE);
  const tsDut = option(synAck.tcp, TCPOPT_TIMESTAMP);
  const tsPeer = option(ack.tcp, TCPOPT_TIMESTAMP);
  const hs: Handshake = {
    seq: ack.tcp.seq,
    ack: (synAck.tcp.seq + 1) >>> 0,
    wscale: wsOff === undefined ? 0 : Math.min(14, synAck.f.data[wsOff + 2]!),
    window: synAck.tcp.window,
  };
  // The DUT's later ACKs carry newer TSvals; echoing the SYN-ACK's is still valid (it is not from the future).
  if (tsDut !== undefined && tsPeer !== undefined)
    hs.ts = { val: (ack.f.data.readUInt32BE(tsPeer + 2) + 1) >>> 0, ecr: synAck.f.data.readUInt32BE(tsDut + 2) };
  return hs;
}

/** The DUT's MSS from its SYN-ACK, if it sent one. */
export function dutMss(frames: readonly WireFrame[], e: TcpEnds): number | undefined {
  for (const f of frames) {
    const tcp = f.parsed.l4?.tcp;
    if (f.parsed.ip?.src !== e.dut || !tcp || !(tcp.flags & TCP_SYN) || tcp.sport !== e.dport) continue;
    const off = option(tcp, TCPOPT_MSS);
    if (off !== undefined) return f.data.readUInt16BE(off + 2);
  }
  return undefined;
}

/** One segment of the stream: its good payload, and a corrupted copy at the same sequence number. */
export interface SegmentPlan {
  index: number;
  /** Stream offset of its first byte. */
  offset: number;
  good: Buffer;
  /** Same length, other bytes; goes out with a wrong checksum just before the good one. */
  bad: Buffer;
  /** Seed for the wrong checksum value. */
  badSeed: number;
}

export function planSegments(seed: number, lengths: readonly number[]): SegmentPlan[] {
  const rng = createRng(seed);
  let offset = 0;
  return lengths.map((len, index) => {
    const s = { index, offset, good: rng.bytes(len), bad: rng.bytes(len), badSeed: rng.u32() };
    offset += len;
    return s;
  });
}

/** TCP options of every hand-made segment: NOP NOP TS, as Linux sends them (header prediction expects that layout). */
function options(hs: Handshake): Buffer | undefined {
  return hs.ts ? Buffer.concat([tcpOpt.nop(), tcpOpt.nop(), tcpOpt.timestamps(hs.ts.val, hs.ts.ecr)]) : undefined;
}

function spec(e: TcpEnds, hs: Handshake) {
  return {
    family: e.family,
    srcMac: e.peerMac,
    dstMac: e.dutMac,
    src: e.peer,
    dst: e.dut,
    sport: e.sport,
    dport: e.dport,
    ack: hs.ack,
    window: 0xffff,
    options: options(hs),
  };
}

/** The frame of one segment, good (right checksum) or bad (other payload, wrong checksum). */
export function segmentFrame(e: TcpEnds, hs: Handshake, s: SegmentPlan, which: 'good' | 'bad'): Buffer {
  const base = { ...spec(e, hs), seq: (hs.seq + s.offset) >>> 0, flags: TCP_ACK | TCP_PSH };
  if (which === 'good') return buildTcpFrame({ ...base, payload: s.good });
  const right = verifyL4(buildTcpFrame({ ...base, payload: s.bad })).expected;
  return buildTcpFrame({ ...base, payload: s.bad, checksum: wrongChecksum(createRng(s.badSeed), right) });
}

/** The FIN that ends the stream, so the DUT's socket reads end-of-file. */
export function finFrame(e: TcpEnds, hs: Handshake, total: number): Buffer {
  return buildTcpFrame({ ...spec(e, hs), seq: (hs.seq + total) >>> 0, flags: TCP_FIN | TCP_ACK });
}

/** What the sender knows: bytes acknowledged, the window, which bad copies went out. */
export interface SenderState {
  acked: number;
  window: number;
  badSent: boolean[];
}

/** Segments to send now: every unacknowledged one inside the window (at least the first), each bad copy once, before its good one. */
export function nextBatch(segs: readonly SegmentPlan[], st: SenderState): { seg: number; bad: boolean }[] {
  const out: { seg: number; bad: boolean }[] = [];
  for (const s of segs) {
    if (s.offset + s.good.length <= st.acked) continue;
    if (out.length > 0 && s.offset + s.good.length > st.acked + st.window) break;
    if (!st.badSent[s.index]) out.push({ seg: s.index, bad: true });
    out.push({ seg: s.index, bad: false });
  }
  return out;
}

/** The DUT's cumulative ACK (stream offset) and window (bytes) from the frames the peer received. */
export function readAcks(
  frames: readonly WireFrame[],
  e: TcpEnds,
  hs: Handshake,
  total: number,
): { acked: number; window: number } | undefined {
  let best: { acked: number; window: number } | undefined;
  for (const f of frames) {
    const { ip, l4 } = f.parsed;
    const tcp = l4?.tcp;
    if (!ip || !tcp || ip.src !== e.dut || tcp.sport !== e.dport || tcp.dport !== e.sport || !(tcp.flags & TCP_ACK)) continue;
    const rel = (tcp.ack - hs.seq) >>> 0;
    // Acks beyond the stream (+1 for our FIN) are not for this stream.
    if (rel > total + 1) continue;
    if (!best || rel >= best.acked) best = { acked: Math.min(rel, total), window: tcp.window * 2 ** hs.wscale };
  }
  return best;
}
