/**
 * SCTP common header and chunks (RFC 9260, formerly RFC 4960): parse, build,
 * and the CRC32c checksum. The checksum is the CRC32c of the whole packet
 * with the field zeroed, stored least significant byte first (RFC 9260
 * appendix A: the CRC's first byte goes first on the wire; Linux keeps it
 * as __le32), so a reader sees it as a little-endian 32-bit number.
 */
import { NicmatrixError } from './errors.js';
import { crc32c } from './crc32c.js';

export const IPPROTO_SCTP = 132;
export const SCTP_HLEN = 12;
/** Offset of the checksum field inside the common header. */
export const SCTP_CSUM_OFFSET = 8;
export const SCTP_CHUNK_HLEN = 4;

/** Chunk types used here (RFC 9260 3.2). */
export const SCTP_DATA = 0;
export const SCTP_INIT = 1;
export const SCTP_INIT_ACK = 2;
export const SCTP_SACK = 3;
export const SCTP_HEARTBEAT = 4;
export const SCTP_ABORT = 6;
export const SCTP_SHUTDOWN = 7;
export const SCTP_COOKIE_ECHO = 10;
export const SCTP_COOKIE_ACK = 11;

export interface SctpChunk {
  type: number;
  flags: number;
  /** The chunk's length field (header + value, without padding). */
  length: number;
  /** Frame offset of the chunk header. */
  offset: number;
  /** The value (after the 4-byte chunk header), clipped to the capture. */
  value: Buffer;
}

export interface SctpInfo {
  sport: number;
  dport: number;
  vtag: number;
  /** The field as a little-endian number (the CRC32c's own value when right). */
  checksum: number;
  chunks: SctpChunk[];
}

export interface SctpParse {
  sctp?: SctpInfo;
  error?: string;
}

/** Parses the common header at `off` and every chunk up to `end` (the end of the IP payload); never throws. */
export function parseSctp(buf: Uint8Array, off: number, end: number): SctpParse {
  if (end - off < SCTP_HLEN)
    return { error: `sctp: header needs ${SCTP_HLEN} bytes at offset ${off}, ${Math.max(0, end - off)} available` };
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const sctp: SctpInfo = {
    sport: b.readUInt16BE(off),
    dport: b.readUInt16BE(off + 2),
    vtag: b.readUInt32BE(off + 4),
    checksum: b.readUInt32LE(off + SCTP_CSUM_OFFSET),
    chunks: [],
  };
  let cur = off + SCTP_HLEN;
  while (cur < end) {
    if (end - cur < SCTP_CHUNK_HLEN) return { sctp, error: `sctp: chunk header at offset ${cur} needs 4 bytes, ${end - cur} left` };
    const length = b.readUInt16BE(cur + 2);
    if (length < SCTP_CHUNK_HLEN) return { sctp, error: `sctp: chunk at offset ${cur} has length ${length}, below its 4-byte header` };
    if (cur + length > end) return { sctp, error: `sctp: chunk at offset ${cur} has length ${length}, ${end - cur} bytes left` };
    sctp.chunks.push({ type: b[cur]!, flags: b[cur + 1]!, length, offset: cur, value: Buffer.from(b.subarray(cur + 4, cur + length)) });
    cur += Math.ceil(length / 4) * 4;
  }
  return { sctp };
}

/** The CRC32c a correct sender puts in the field of the packet sctp[0, len) (the field itself read as zero). */
export function sctpChecksum(packet: Uint8Array, start = 0, end = packet.length): number {
  if (end - start < SCTP_HLEN)
    throw new NicmatrixError('CODEC', `sctpChecksum: expected at least ${SCTP_HLEN} bytes, found ${end - start}`);
  const zero = new Uint8Array(4);
  let c = crc32c(packet, start, start + SCTP_CSUM_OFFSET);
  c = crc32c(zero, 0, 4, c);
  return crc32c(packet, start + SCTP_CSUM_OFFSET + 4, end, c);
}

export interface SctpChunkSpec {
  type: number;
  flags?: number;
  value?: Uint8Array;
}

/** One chunk, padded to a multiple of 4 (the length field leaves the padding out). */
export function buildSctpChunk(c: SctpChunkSpec): Buffer {
  const value = c.value ?? new Uint8Array(0);
  const length = SCTP_CHUNK_HLEN + value.length;
  if (length > 0xffff) throw new NicmatrixError('CODEC', `sctp: chunk of ${length} bytes exceeds 65535`);
  const out = Buffer.alloc(Math.ceil(length / 4) * 4);
  out[0] = c.type;
  out[1] = c.flags ?? 0;
  out.writeUInt16BE(length, 2);
  out.set(value, 4);
  return out;
}

/** What goes in the checksum field: the right CRC32c, 0, or a literal 32-bit value (as the little-endian number). */
export type SctpChecksumMode = 'correct' | 'zero' | number;

export interface SctpPacketSpec {
  sport: number;
  dport: number;
  vtag: number;
  chunks: readonly SctpChunkSpec[];
  checksum?: SctpChecksumMode;
}

/** Common header + chunks, checksum filled per `spec.checksum` (default 'correct'). */
export function buildSctpPacket(spec: SctpPacketSpec): Buffer {
  const h = Buffer.alloc(SCTP_HLEN);
  h.writeUInt16BE(spec.sport, 0);
  h.writeUInt16BE(spec.dport, 2);
  h.writeUInt32BE(spec.vtag >>> 0, 4);
  const pkt = Buffer.concat([h, ...spec.chunks.map(buildSctpChunk)]);
  const mode = spec.checksum ?? 'correct';
  const value = mode === 'correct' ? sctpChecksum(pkt) : mode === 'zero' ? 0 : mode;
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new NicmatrixError('CODEC', `sctp checksum: expected 'correct', 'zero' or a 32-bit value, found ${String(mode)}`);
  }
  pkt.writeUInt32LE(value >>> 0, SCTP_CSUM_OFFSET);
  return pkt;
}

export interface SctpInitSpec {
  initiateTag: number;
  /** Advertised receiver window credit. */
  arwnd?: number;
  outStreams?: number;
  inStreams?: number;
  initialTsn: number;
  /** Raw parameters (TLVs), already padded. */
  params?: Uint8Array;
}

/** Value of an INIT (or INIT ACK) chunk (RFC 9260 3.3.2). */
export function sctpInitValue(s: SctpInitSpec): Buffer {
  const v = Buffer.alloc(16);
  v.writeUInt32BE(s.initiateTag >>> 0, 0);
  v.writeUInt32BE((s.arwnd ?? 65536) >>> 0, 4);
  v.writeUInt16BE(s.outStreams ?? 10, 8);
  v.writeUInt16BE(s.inStreams ?? 10, 10);
  v.writeUInt32BE(s.initialTsn >>> 0, 12);
  return Buffer.concat([v, s.params ?? new Uint8Array(0)]);
}

/** Fields of an INIT / INIT ACK value; undefined when it is shorter than 16 bytes. */
export function parseSctpInit(
  value: Buffer,
): { initiateTag: number; arwnd: number; outStreams: number; inStreams: number; initialTsn: number; params: Buffer } | undefined {
  if (value.length < 16) return undefined;
  return {
    initiateTag: value.readUInt32BE(0),
    arwnd: value.readUInt32BE(4),
    outStreams: value.readUInt16BE(8),
    inStreams: value.readUInt16BE(10),
    initialTsn: value.readUInt32BE(12),
    params: value.subarray(16),
  };
}

/** Parameters (type, value) of an INIT / INIT ACK. */
export function sctpParams(params: Buffer): { type: number; value: Buffer }[] {
  const out: { type: number; value: Buffer }[] = [];
  for (let cur = 0; cur + 4 <= params.length;) {
    const len = params.readUInt16BE(cur + 2);
    if (len < 4 || cur + len > params.length) break;
    out.push({ type: params.readUInt16BE(cur), value: params.subarray(cur + 4, cur + len) });
    cur += Math.ceil(len / 4) * 4;
  }
  return out;
}

/** INIT ACK parameter carrying the state cookie (RFC 9260 3.3.3). */
export const SCTP_PARAM_STATE_COOKIE = 7;

/** Value of a DATA chunk (RFC 9260 3.3.1): TSN, stream, sequence, PPID, user data. */
export function sctpDataValue(tsn: number, stream: number, ssn: number, ppid: number, data: Uint8Array): Buffer {
  const v = Buffer.alloc(12);
  v.writeUInt32BE(tsn >>> 0, 0);
  v.writeUInt16BE(stream, 4);
  v.writeUInt16BE(ssn, 6);
  v.writeUInt32BE(ppid >>> 0, 8);
  return Buffer.concat([v, data]);
}
