/** Frame builders: Ethernet (+ tags) / IPv4 or IPv6 (+ options / extension headers) / UDP or TCP. */
import { l4Checksum, partialSeed } from './checksum.js';
import { NicmatrixError } from './errors.js';
import type { IpFamily } from './addr.js';
import { buildEthernet, ETH_P_IPV4, ETH_P_IPV6, type VlanSpec } from './ethernet.js';
import { buildIpv4Header, type Ipv4HeaderSpec } from './ipv4.js';
import { buildIpv6Header, type Ipv6ExtSpec, type Ipv6HeaderSpec } from './ipv6.js';
import { buildTcpHeader, TCP_CSUM_OFFSET, type TcpHeaderSpec } from './tcp.js';
import { buildUdpHeader, UDP_CSUM_OFFSET, UDP_HLEN } from './udp.js';

/**
 * What goes in the L4 checksum field: the right value (UDP zero rule applied),
 * 0, the CHECKSUM_PARTIAL pseudo-header seed, or a literal value.
 */
export type ChecksumMode = 'correct' | 'zero' | 'partial' | number;

export const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
export const DEFAULT_DST_MAC = '02:00:00:00:00:02';

/** Fields every frame builder takes. */
export interface IpFrameSpec {
  srcMac?: string;
  dstMac?: string;
  /** Tags, outermost first. */
  vlan?: readonly VlanSpec[];
  family: IpFamily;
  src: string;
  dst: string;
  payload?: Uint8Array;
  /** IPv4 only: raw option bytes. */
  ipOptions?: Uint8Array;
  /** IPv6 only: extension headers in order. */
  ipv6ExtHeaders?: readonly Ipv6ExtSpec[];
  checksum?: ChecksumMode;
  /** More IPv4 header fields (ttl, id, df, tos, a forced header checksum...). */
  ipv4?: Partial<Omit<Ipv4HeaderSpec, 'src' | 'dst' | 'proto' | 'options'>>;
  /** More IPv6 header fields (hop limit, traffic class, flow label). */
  ipv6?: Partial<Omit<Ipv6HeaderSpec, 'src' | 'dst'>>;
  /** Pad the frame with zeros to at least this many bytes (60 = Ethernet minimum). */
  padTo?: number;
}

export interface UdpFrameSpec extends IpFrameSpec {
  sport: number;
  dport: number;
  /** Force the UDP length field; header + payload otherwise. */
  udpLength?: number;
}

export interface TcpFrameSpec extends IpFrameSpec, Omit<TcpHeaderSpec, 'options'> {
  /** Raw TCP option bytes (see `tcpOpt`). */
  options?: Uint8Array;
}

function fillChecksum(spec: IpFrameSpec, proto: number, l4: Buffer, fieldOff: number): void {
  const mode = spec.checksum ?? 'correct';
  let value: number;
  if (mode === 'correct') value = l4Checksum(spec.family, spec.src, spec.dst, proto, l4);
  else if (mode === 'zero') value = 0;
  else if (mode === 'partial') value = partialSeed(spec.family, spec.src, spec.dst, proto, l4.length);
  else value = mode;
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new NicmatrixError('CODEC', `checksum: expected 'correct', 'zero', 'partial' or a 16-bit value, found ${String(mode)}`);
  }
  l4.writeUInt16BE(value, fieldOff);
}

/** Wraps an L4 segment (checksum field already set) in IP and Ethernet. */
export function wrapL4(spec: IpFrameSpec, proto: number, l4: Buffer): Buffer {
  let ipHdr: Buffer;
  if (spec.family === 4) {
    if (spec.ipv6ExtHeaders?.length) throw new NicmatrixError('CODEC', 'frame: IPv6 extension headers given for an IPv4 frame');
    ipHdr = buildIpv4Header({ ...spec.ipv4, src: spec.src, dst: spec.dst, proto, options: spec.ipOptions }, l4.length);
  } else {
    if (spec.ipOptions?.length) throw new NicmatrixError('CODEC', 'frame: IPv4 options given for an IPv6 frame');
    ipHdr = buildIpv6Header({ ...spec.ipv6, src: spec.src, dst: spec.dst }, proto, l4.length, spec.ipv6ExtHeaders ?? []);
  }
  const eth = buildEthernet(
    spec.dstMac ?? DEFAULT_DST_MAC,
    spec.srcMac ?? DEFAULT_SRC_MAC,
    spec.family === 4 ? ETH_P_IPV4 : ETH_P_IPV6,
    spec.vlan ?? [],
  );
  const frame = Buffer.concat([eth, ipHdr, l4]);
  const pad = (spec.padTo ?? 0) - frame.length;
  return pad > 0 ? Buffer.concat([frame, Buffer.alloc(pad)]) : frame;
}

/** A UDP frame; the checksum is filled per `spec.checksum` (default 'correct'). */
export function buildUdpFrame(spec: UdpFrameSpec): Buffer {
  const payload = spec.payload ?? new Uint8Array(0);
  const len = UDP_HLEN + payload.length;
  if (len > 0xffff) throw new NicmatrixError('CODEC', `udp: datagram of ${len} bytes exceeds 65535`);
  const l4 = Buffer.concat([buildUdpHeader(spec.sport, spec.dport, spec.udpLength ?? len), payload]);
  fillChecksum(spec, 17, l4, UDP_CSUM_OFFSET);
  return wrapL4(spec, 17, l4);
}

/** A TCP segment in a frame; the checksum is filled per `spec.checksum` (default 'correct'). */
export function buildTcpFrame(spec: TcpFrameSpec): Buffer {
  const l4 = Buffer.concat([buildTcpHeader(spec), spec.payload ?? new Uint8Array(0)]);
  fillChecksum(spec, 6, l4, TCP_CSUM_OFFSET);
  return wrapL4(spec, 6, l4);
}
