/**
 * IP fragment builders. A whole datagram (an Ethernet frame from the builders)
 * is cut into fragment frames; `*FragmentAt` makes any single fragment, so a
 * check can craft overlapping, duplicated or tiny fragment sets.
 */
import { NicmatrixError } from './errors.js';
import { parseFrame, type ParsedFrame } from './frame.js';
import { buildIpv4Header, copiedOptions, IPV4_MIN_HLEN, type Ipv4Info } from './ipv4.js';
import { IPV6_HLEN, NEXTHDR_FRAGMENT, NEXTHDR_HOP, NEXTHDR_ROUTING, buildExtHeader, type Ipv6Info } from './ipv6.js';

export interface FragmentOptions {
  /** Identification (IPv4: defaults to the datagram's; IPv6: defaults to 0). */
  id?: number;
}

/** A datagram split for fragmenting: what every fragment repeats and the bytes to cut. */
interface Split<I> {
  frame: ParsedFrame;
  ip: I;
  l2: Buffer;
  /** The fragmentable part: everything after the per-fragment headers. */
  data: Buffer;
}

function split(datagram: Buffer, family: 4 | 6): Split<Ipv4Info> | Split<Ipv6Info> {
  const frame = parseFrame(datagram);
  const ip = frame.ip;
  if (!ip || frame.error) {
    throw new NicmatrixError('CODEC', `fragment: expected a whole IPv${family} datagram, found ${frame.error ?? 'no IP layer'}`);
  }
  if (ip.family !== family) throw new NicmatrixError('CODEC', `fragment: expected an IPv${family} datagram, found IPv${ip.family}`);
  if (ip.fragment) throw new NicmatrixError('CODEC', `fragment: the datagram is already a fragment (offset ${ip.fragment.offset})`);
  const l2 = datagram.subarray(0, ip.offset);
  const unfrag = family === 4 ? ip.hdrLen : unfragmentableLength(ip as Ipv6Info);
  const data = datagram.subarray(ip.offset + unfrag, ip.offset + ip.totalLen);
  return { frame, ip, l2, data } as Split<Ipv4Info> | Split<Ipv6Info>;
}

/** RFC 8200 4.5: the fixed header plus extension headers up to the last Hop-by-Hop or Routing one. */
function unfragmentableLength(ip: Ipv6Info): number {
  let len = IPV6_HLEN;
  for (const h of ip.extHeaders) {
    if (h.type === NEXTHDR_HOP || h.type === NEXTHDR_ROUTING) len = h.offset + h.length - ip.offset;
  }
  return len;
}

function checkRange(kind: string, data: Buffer, offset: number, length: number): void {
  if (offset % 8 !== 0 || offset < 0 || length < 0 || offset + length > data.length) {
    throw new NicmatrixError(
      'CODEC',
      `${kind} fragment: expected an 8-aligned range within the ${data.length} fragmentable bytes, found offset ${offset} length ${length}`,
    );
  }
}

/** One IPv4 fragment carrying data[offset, offset+length); MF defaults to "not the end". */
export function ipv4FragmentAt(datagram: Buffer, offset: number, length: number, more?: boolean, opts: FragmentOptions = {}): Buffer {
  const s = split(datagram, 4) as Split<Ipv4Info>;
  checkRange('ipv4', s.data, offset, length);
  const ip = s.ip;
  const allOptions = datagram.subarray(ip.offset + IPV4_MIN_HLEN, ip.offset + ip.hdrLen);
  const hdr = buildIpv4Header(
    {
      src: ip.src,
      dst: ip.dst,
      proto: ip.proto,
      ttl: ip.ttl,
      tos: ip.tos,
      id: opts.id ?? ip.id,
      mf: more ?? offset + length < s.data.length,
      fragOffset: offset,
      // Only options with the copy bit travel in later fragments (RFC 791).
      options: offset === 0 ? allOptions : copiedOptions(allOptions),
    },
    length,
  );
  return Buffer.concat([s.l2, hdr, s.data.subarray(offset, offset + length)]);
}

/** One IPv6 fragment carrying data[offset, offset+length); M defaults to "not the end". */
export function ipv6FragmentAt(datagram: Buffer, offset: number, length: number, more?: boolean, opts: FragmentOptions = {}): Buffer {
  const s = split(datagram, 6) as Split<Ipv6Info>;
  checkRange('ipv6', s.data, offset, length);
  const ip = s.ip;
  const unfragLen = unfragmentableLength(ip);
  const unfrag = Buffer.from(datagram.subarray(ip.offset, ip.offset + unfragLen));
  // The Next Header byte that pointed at the fragmentable part now points at the fragment header.
  const last = ip.extHeaders.filter((h) => h.offset - ip.offset < unfragLen).pop();
  const nextPos = last ? last.offset - ip.offset : 6;
  const fragNext = unfrag[nextPos]!;
  unfrag[nextPos] = NEXTHDR_FRAGMENT;
  unfrag.writeUInt16BE(unfragLen - IPV6_HLEN + 8 + length, 4);
  const fh = buildExtHeader({ kind: 'fragment', offset, more: more ?? offset + length < s.data.length, id: opts.id ?? 0 }, fragNext);
  return Buffer.concat([s.l2, unfrag, fh, s.data.subarray(offset, offset + length)]);
}

function cut(dataLen: number, fragSize: number, kind: string): Array<[number, number]> {
  const step = Math.floor(fragSize / 8) * 8;
  if (step < 8) throw new NicmatrixError('CODEC', `${kind} fragments: expected a fragment size of at least 8 bytes, found ${fragSize}`);
  const out: Array<[number, number]> = [];
  for (let off = 0; off < dataLen || out.length === 0; off += step) out.push([off, Math.min(step, dataLen - off)]);
  return out;
}

/** Cuts an IPv4 datagram frame into fragments of at most `fragSize` data bytes (rounded down to 8), in order. */
export function buildIpv4Fragments(datagram: Buffer, fragSize: number, opts: FragmentOptions = {}): Buffer[] {
  const s = split(datagram, 4);
  return cut(s.data.length, fragSize, 'ipv4').map(([o, l]) => ipv4FragmentAt(datagram, o, l, undefined, opts));
}

/** Cuts an IPv6 datagram frame into fragments of at most `fragSize` data bytes (rounded down to 8), in order. */
export function buildIpv6Fragments(datagram: Buffer, fragSize: number, opts: FragmentOptions = {}): Buffer[] {
  const s = split(datagram, 6);
  return cut(s.data.length, fragSize, 'ipv6').map(([o, l]) => ipv6FragmentAt(datagram, o, l, undefined, opts));
}
