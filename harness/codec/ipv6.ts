/** IPv6 header and extension-header chain (RFC 8200): parse, build. */
import { NicmatrixError } from './errors.js';
import { bytesToIpv6, ipv6ToBytes } from './addr.js';
import type { FragmentInfo } from './ipv4.js';
import { buildExtHeader, extSpecType, NEXTHDR_DEST, NEXTHDR_FRAGMENT, NEXTHDR_HOP, NEXTHDR_ROUTING, type Ipv6ExtSpec } from './ipv6-ext.js';

export { buildExtHeader, extSpecType, NEXTHDR_DEST, NEXTHDR_FRAGMENT, NEXTHDR_HOP, NEXTHDR_ROUTING, type Ipv6ExtSpec } from './ipv6-ext.js';

export const IPV6_HLEN = 40;
export const NEXTHDR_AUTH = 51;
export const NEXTHDR_NONE = 59;
/** Headers with the generic (8-octet units, excluding the first 8) length byte. */
const GENERIC_EXT = new Set([NEXTHDR_HOP, NEXTHDR_ROUTING, NEXTHDR_DEST, 135, 139, 140]);

/** One extension header found in a frame. */
export interface Ipv6ExtHeader {
  /** Its protocol number (0, 43, 44, 51, 60...). */
  type: number;
  offset: number;
  length: number;
  /** Protocol number of what follows it. */
  nextHeader: number;
}

export interface Ipv6Info {
  family: 6;
  offset: number;
  /** Fixed header plus every extension header walked (up to the upper layer). */
  hdrLen: number;
  /** 40 + payload length. */
  totalLen: number;
  payloadLen: number;
  trafficClass: number;
  flowLabel: number;
  hopLimit: number;
  /** Next Header of the fixed header. */
  nextHeader: number;
  /** Upper-layer protocol at the end of the chain (59 for none). */
  proto: number;
  src: string;
  dst: string;
  extHeaders: Ipv6ExtHeader[];
  fragment?: FragmentInfo;
}

export interface Ipv6Parse {
  ip?: Ipv6Info;
  error?: string;
}

export function isIpv6ExtHeader(type: number): boolean {
  return GENERIC_EXT.has(type) || type === NEXTHDR_FRAGMENT || type === NEXTHDR_AUTH;
}

/** Parses the fixed header at `off` and walks the extension chain; never throws. */
export function parseIpv6(buf: Uint8Array, off: number): Ipv6Parse {
  const have = buf.length - off;
  if (have < IPV6_HLEN) return { error: `ipv6: header needs ${IPV6_HLEN} bytes at offset ${off}, frame has ${have}` };
  const version = buf[off]! >> 4;
  if (version !== 6) return { error: `ipv6: expected version 6 at offset ${off}, found ${version}` };
  const payloadLen = (buf[off + 4]! << 8) | buf[off + 5]!;
  const ip: Ipv6Info = {
    family: 6,
    offset: off,
    hdrLen: IPV6_HLEN,
    totalLen: IPV6_HLEN + payloadLen,
    payloadLen,
    trafficClass: ((buf[off]! & 0x0f) << 4) | (buf[off + 1]! >> 4),
    flowLabel: ((buf[off + 1]! & 0x0f) << 16) | (buf[off + 2]! << 8) | buf[off + 3]!,
    hopLimit: buf[off + 7]!,
    nextHeader: buf[off + 6]!,
    proto: buf[off + 6]!,
    src: bytesToIpv6(buf, off + 8),
    dst: bytesToIpv6(buf, off + 24),
    extHeaders: [],
  };
  // The chain may only be walked within the captured bytes and the payload length.
  const limit = Math.min(buf.length, off + ip.totalLen);
  let cur = off + IPV6_HLEN;
  while (isIpv6ExtHeader(ip.proto)) {
    const type = ip.proto;
    if (cur + 8 > limit) return { ip, error: `ipv6: extension header ${type} at offset ${cur} needs 8 bytes, ${limit - cur} left` };
    let length = 8;
    if (GENERIC_EXT.has(type)) length = (buf[cur + 1]! + 1) * 8;
    else if (type === NEXTHDR_AUTH) length = (buf[cur + 1]! + 2) * 4;
    if (cur + length > limit) {
      return { ip, error: `ipv6: extension header ${type} at offset ${cur} has length ${length}, ${limit - cur} bytes left` };
    }
    const nextHeader = buf[cur]!;
    ip.extHeaders.push({ type, offset: cur, length, nextHeader });
    ip.proto = nextHeader;
    cur += length;
    ip.hdrLen = cur - off;
    if (type === NEXTHDR_FRAGMENT) {
      const word = (buf[cur - 6]! << 8) | buf[cur - 5]!;
      const id = ((buf[cur - 4]! << 24) | (buf[cur - 3]! << 16) | (buf[cur - 2]! << 8) | buf[cur - 1]!) >>> 0;
      ip.fragment = { offset: word & 0xfff8, more: (word & 1) !== 0, id, headerOffset: cur - length };
      // Past a non-first fragment header the bytes are a slice of the original payload, not headers.
      if (ip.fragment.offset > 0) break;
    }
  }
  if (IPV6_HLEN + payloadLen > have)
    return { ip, error: `ipv6: payload length ${payloadLen} exceeds the ${have - IPV6_HLEN} bytes captured after the header` };
  return { ip };
}

/** Fixed header fields; defaults: hop limit 64, traffic class 0, flow label 0. */
export interface Ipv6HeaderSpec {
  src: string;
  dst: string;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Force this payload length; computed otherwise. */
  payloadLength?: number;
}

/** Fixed header + extension headers for an upper layer `proto` of `upperLen` bytes. */
export function buildIpv6Header(spec: Ipv6HeaderSpec, proto: number, upperLen: number, ext: readonly Ipv6ExtSpec[] = []): Buffer {
  const exts: Buffer[] = [];
  let next = proto;
  for (const e of [...ext].reverse()) {
    exts.unshift(buildExtHeader(e, next));
    next = extSpecType(e);
  }
  const extLen = exts.reduce((n, b) => n + b.length, 0);
  const payloadLen = spec.payloadLength ?? extLen + upperLen;
  if (payloadLen > 0xffff) throw new NicmatrixError('CODEC', `ipv6: payload length ${payloadLen} exceeds 65535 (jumbograms are not built)`);
  const h = Buffer.alloc(IPV6_HLEN);
  const tc = spec.trafficClass ?? 0;
  h.writeUInt32BE(((6 << 28) | ((tc & 0xff) << 20) | ((spec.flowLabel ?? 0) & 0xfffff)) >>> 0, 0);
  h.writeUInt16BE(payloadLen, 4);
  h[6] = ext[0] !== undefined ? extSpecType(ext[0]) : proto;
  h[7] = spec.hopLimit ?? 64;
  ipv6ToBytes(spec.src).copy(h, 8);
  ipv6ToBytes(spec.dst).copy(h, 24);
  return Buffer.concat([h, ...exts]);
}
