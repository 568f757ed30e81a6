/** IPv4 header with options (RFC 791): parse, build, header checksum. */
import { checksum } from './checksum.js';
import { NicmatrixError } from './errors.js';
import { bytesToIpv4, ipv4ToBytes } from './addr.js';
import { parseIpv4Options, type IpOption } from './ipv4-options.js';

export * from './ipv4-options.js';

export const IPV4_MIN_HLEN = 20;
export const IPV4_MAX_OPTIONS = 40;

/** Fragment fields of either family. `offset` is in bytes. */
export interface FragmentInfo {
  offset: number;
  more: boolean;
  id: number;
  /** IPv6: where the fragment extension header sits in the frame. */
  headerOffset?: number;
}

export interface Ipv4Info {
  family: 4;
  /** Frame offset of the IPv4 header. */
  offset: number;
  hdrLen: number;
  totalLen: number;
  tos: number;
  id: number;
  df: boolean;
  ttl: number;
  /** Protocol of what follows the header. */
  proto: number;
  headerChecksum: number;
  headerChecksumOk: boolean;
  src: string;
  dst: string;
  options: IpOption[];
  /** Present when this is a fragment (MF set or offset > 0). */
  fragment?: FragmentInfo;
}

export interface Ipv4Parse {
  ip?: Ipv4Info;
  error?: string;
}

/** Parses the header at `off`; `ip` is given whenever the fixed header and options are whole. */
export function parseIpv4(buf: Uint8Array, off: number): Ipv4Parse {
  const have = buf.length - off;
  if (have < IPV4_MIN_HLEN) return { error: `ipv4: header needs ${IPV4_MIN_HLEN} bytes at offset ${off}, frame has ${have}` };
  const version = buf[off]! >> 4;
  if (version !== 4) return { error: `ipv4: expected version 4 at offset ${off}, found ${version}` };
  const hdrLen = (buf[off]! & 0x0f) * 4;
  if (hdrLen < IPV4_MIN_HLEN) return { error: `ipv4: IHL gives ${hdrLen} bytes, the minimum is ${IPV4_MIN_HLEN}` };
  if (have < hdrLen) return { error: `ipv4: header with options needs ${hdrLen} bytes at offset ${off}, frame has ${have}` };
  const rd16 = (i: number): number => (buf[off + i]! << 8) | buf[off + i + 1]!;
  const totalLen = rd16(2);
  const flagsFrag = rd16(6);
  const fragOffset = (flagsFrag & 0x1fff) * 8;
  const mf = (flagsFrag & 0x2000) !== 0;
  const ip: Ipv4Info = {
    family: 4,
    offset: off,
    hdrLen,
    totalLen,
    tos: buf[off + 1]!,
    id: rd16(4),
    df: (flagsFrag & 0x4000) !== 0,
    ttl: buf[off + 8]!,
    proto: buf[off + 9]!,
    headerChecksum: rd16(10),
    headerChecksumOk: checksum(buf, off, off + hdrLen) === 0,
    src: bytesToIpv4(buf, off + 12),
    dst: bytesToIpv4(buf, off + 16),
    options: [],
  };
  if (mf || fragOffset > 0) ip.fragment = { offset: fragOffset, more: mf, id: ip.id };
  const optErr = parseIpv4Options(buf, off + IPV4_MIN_HLEN, off + hdrLen, ip.options);
  if (optErr) return { ip, error: optErr };
  if (totalLen < hdrLen) return { ip, error: `ipv4: total length ${totalLen} is shorter than the ${hdrLen}-byte header` };
  if (totalLen > have) return { ip, error: `ipv4: total length ${totalLen} exceeds the ${have} bytes captured` };
  return { ip };
}

/** What to build; defaults: ttl 64, tos 0, id 0, no DF/MF, offset 0, no options. */
export interface Ipv4HeaderSpec {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  tos?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Raw option bytes; padded with END (0) to a multiple of 4, at most 40. */
  options?: Uint8Array;
  /** Force this header checksum (to inject a bad one); computed otherwise. */
  headerChecksum?: number;
  /** Force this total length; header + payload otherwise. */
  totalLength?: number;
}

/** Builds the header for a payload of `payloadLen` bytes, checksum filled in. */
export function buildIpv4Header(spec: Ipv4HeaderSpec, payloadLen: number): Buffer {
  const opts = spec.options ?? new Uint8Array(0);
  const optLen = Math.ceil(opts.length / 4) * 4;
  if (optLen > IPV4_MAX_OPTIONS)
    throw new NicmatrixError('CODEC', `ipv4: options take at most ${IPV4_MAX_OPTIONS} bytes, found ${opts.length}`);
  const fragOffset = spec.fragOffset ?? 0;
  if (fragOffset % 8 !== 0 || fragOffset < 0 || fragOffset / 8 > 0x1fff) {
    throw new NicmatrixError('CODEC', `ipv4: fragment offset must be a multiple of 8 below 65536, found ${fragOffset}`);
  }
  const hdrLen = IPV4_MIN_HLEN + optLen;
  const total = spec.totalLength ?? hdrLen + payloadLen;
  if (total > 0xffff) throw new NicmatrixError('CODEC', `ipv4: total length ${total} exceeds 65535`);
  const h = Buffer.alloc(hdrLen);
  h[0] = 0x40 | (hdrLen / 4);
  h[1] = spec.tos ?? 0;
  h.writeUInt16BE(total, 2);
  h.writeUInt16BE(spec.id ?? 0, 4);
  h.writeUInt16BE((spec.df ? 0x4000 : 0) | (spec.mf ? 0x2000 : 0) | (fragOffset / 8), 6);
  h[8] = spec.ttl ?? 64;
  h[9] = spec.proto;
  ipv4ToBytes(spec.src).copy(h, 12);
  ipv4ToBytes(spec.dst).copy(h, 16);
  h.set(opts, IPV4_MIN_HLEN);
  h.writeUInt16BE(spec.headerChecksum ?? checksum(h), 10);
  return h;
}
