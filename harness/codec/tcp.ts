/** TCP header with options (RFC 9293): parse and build. */
import { NicmatrixError } from './errors.js';

export const TCP_MIN_HLEN = 20;
export const TCP_MAX_HLEN = 60;
/** Offset of the checksum field inside the TCP header. */
export const TCP_CSUM_OFFSET = 16;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
const FLAG_LETTERS: Record<string, number> = {
  F: TCP_FIN,
  S: TCP_SYN,
  R: TCP_RST,
  P: TCP_PSH,
  A: TCP_ACK,
  U: TCP_URG,
  E: TCP_ECE,
  C: TCP_CWR,
};

/** One option found in a header (offset is a frame offset). */
export interface TcpOption {
  kind: number;
  offset: number;
  /** Whole option length (1 for EOL/NOP). */
  length: number;
}

export interface TcpInfo {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** Header length in bytes (data offset * 4). */
  hdrLen: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  options: TcpOption[];
}

export interface TcpParse {
  tcp?: TcpInfo;
  error?: string;
}

/** Parses the header at `off`; `end` is where the IP payload ends (or the capture, if shorter). */
export function parseTcp(buf: Uint8Array, off: number, end: number): TcpParse {
  if (end - off < TCP_MIN_HLEN)
    return { error: `tcp: header needs ${TCP_MIN_HLEN} bytes at offset ${off}, ${Math.max(0, end - off)} available` };
  const rd16 = (i: number): number => (buf[off + i]! << 8) | buf[off + i + 1]!;
  const rd32 = (i: number): number => ((rd16(i) << 16) | rd16(i + 2)) >>> 0;
  const hdrLen = (buf[off + 12]! >> 4) * 4;
  const tcp: TcpInfo = {
    sport: rd16(0),
    dport: rd16(2),
    seq: rd32(4),
    ack: rd32(8),
    hdrLen,
    flags: buf[off + 13]!,
    window: rd16(14),
    checksum: rd16(16),
    urgent: rd16(18),
    options: [],
  };
  if (hdrLen < TCP_MIN_HLEN) return { tcp, error: `tcp: data offset gives ${hdrLen} bytes, the minimum is ${TCP_MIN_HLEN}` };
  if (end - off < hdrLen) return { tcp, error: `tcp: header with options needs ${hdrLen} bytes at offset ${off}, ${end - off} available` };
  for (let i = off + TCP_MIN_HLEN; i < off + hdrLen;) {
    const kind = buf[i]!;
    if (kind === 0 || kind === 1) {
      tcp.options.push({ kind, offset: i, length: 1 });
      if (kind === 0) break;
      i++;
      continue;
    }
    // A kind byte last in the header has no length byte: 0 fails the check below as the overrun it is.
    const length = i + 1 < off + hdrLen ? buf[i + 1]! : 0;
    if (length < 2 || i + length > off + hdrLen) {
      return { tcp, error: `tcp: option ${kind} at offset ${i} overruns the ${hdrLen}-byte header` };
    }
    tcp.options.push({ kind, offset: i, length });
    i += length;
  }
  return { tcp };
}

/** Flags from a number or letters ("SA", "PA": F S R P A U E C). */
export function tcpFlags(flags: number | string): number {
  if (typeof flags === 'number') return flags & 0xff;
  let out = 0;
  for (const ch of flags.toUpperCase()) {
    const bit = FLAG_LETTERS[ch];
    if (bit === undefined) throw new NicmatrixError('CODEC', `tcp flags: expected letters from FSRPAUEC, found ${JSON.stringify(flags)}`);
    out |= bit;
  }
  return out;
}

/** Option builders (raw bytes to concatenate). */
export const tcpOpt = {
  eol: (): Buffer => Buffer.from([0]),
  nop: (): Buffer => Buffer.from([1]),
  mss: (mss: number): Buffer => Buffer.from([2, 4, mss >> 8, mss & 0xff]),
  wscale: (shift: number): Buffer => Buffer.from([3, 3, shift]),
  sackPermitted: (): Buffer => Buffer.from([4, 2]),
  timestamps(tsval: number, tsecr: number): Buffer {
    const b = Buffer.alloc(10);
    b[0] = 8;
    b[1] = 10;
    b.writeUInt32BE(tsval >>> 0, 2);
    b.writeUInt32BE(tsecr >>> 0, 6);
    return b;
  },
};

/** What to build; defaults: seq 0, ack 0, flags ACK|PSH, window 65535, no options. */
export interface TcpHeaderSpec {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: number | string;
  window?: number;
  urgent?: number;
  /** Raw option bytes (see `tcpOpt`), padded with EOL to a multiple of 4, at most 40. */
  options?: Uint8Array;
}

/** Builds the header with a zero checksum field. */
export function buildTcpHeader(spec: TcpHeaderSpec): Buffer {
  const opts = spec.options ?? new Uint8Array(0);
  const hdrLen = TCP_MIN_HLEN + Math.ceil(opts.length / 4) * 4;
  if (hdrLen > TCP_MAX_HLEN) throw new NicmatrixError('CODEC', `tcp: options take at most 40 bytes, found ${opts.length}`);
  const h = Buffer.alloc(hdrLen);
  h.writeUInt16BE(spec.sport, 0);
  h.writeUInt16BE(spec.dport, 2);
  h.writeUInt32BE((spec.seq ?? 0) >>> 0, 4);
  h.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  h[12] = (hdrLen / 4) << 4;
  h[13] = tcpFlags(spec.flags ?? TCP_ACK | TCP_PSH);
  h.writeUInt16BE(spec.window ?? 0xffff, 14);
  h.writeUInt16BE(spec.urgent ?? 0, 18);
  h.set(opts, TCP_MIN_HLEN);
  return h;
}
