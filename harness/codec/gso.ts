/**
 * What a GSO super-frame becomes (pure): the frames the kernel's software
 * segmentation (net/ipv4/tcp_offload.c tcp_gso_segment, udp_offload.c
 * __udp_gso_segment, af_inet.c inet_gso_segment) or a correct TSO/USO device
 * makes of it. Headers are copied, then per segment: IPv4 total length, ID
 * (+1 per segment unless fixed) and header checksum, IPv6 payload length,
 * TCP sequence number and flags (CWR on the first only, PSH and FIN on the
 * last only), UDP length; the CHECKSUM_PARTIAL seed moves by the length
 * difference, as the kernel moves it, so a wrong seed stays wrong in every segment.
 */
import { checksum, fold } from './checksum.js';
import { parseFrame } from './frame.js';
import { TCP_CWR, TCP_FIN, TCP_PSH } from './tcp.js';

export interface GsoCut {
  segments: Buffer[];
  /** Set when the frame cannot be cut; segments is then empty. */
  error?: string;
}

/** Ones'-complement seed for another L4 length: seed - oldLen + newLen, folded (never 0 when the sum is not). */
export function moveSeed(seed: number, oldLen: number, newLen: number): number {
  return fold((seed & 0xffff) + (~oldLen & 0xffff) + (newLen & 0xffff));
}

/** Cuts a TCP or UDP super-frame (CHECKSUM_PARTIAL, seed in the L4 checksum field) into gsoSize-byte segments. */
export function gsoSegment(frame: Uint8Array, gsoSize: number, opts: { fixedId?: boolean } = {}): GsoCut {
  const fail = (error: string): GsoCut => ({ segments: [], error });
  if (!Number.isInteger(gsoSize) || gsoSize <= 0) return fail(`gso_size ${gsoSize} is not a positive integer`);
  const p = parseFrame(frame);
  const { ip, l4, payload } = p;
  if (!ip || !l4 || !payload || (l4.kind !== 'tcp' && l4.kind !== 'udp')) return fail(`not a TCP or UDP frame: ${p.error ?? 'unparsable'}`);
  if (ip.offset + ip.totalLen > frame.length)
    return fail(`the IP header says ${ip.totalLen} bytes, the frame holds ${frame.length - ip.offset} after the link header`);
  if (ip.family === 4 && ip.fragment) return fail('an IPv4 fragment cannot be segmented');
  const hdrEnd = payload.offset;
  const dataLen = ip.offset + ip.totalLen - hdrEnd;
  if (dataLen <= 0) return fail('the super-frame carries no data');
  const count = Math.ceil(dataLen / gsoSize);
  const oldL4 = ip.offset + ip.totalLen - l4.offset;
  const seed = (frame[l4.checksumOffset!]! << 8) | frame[l4.checksumOffset! + 1]!;
  const segments: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const len = Math.min(gsoSize, dataLen - i * gsoSize);
    const seg = Buffer.concat([frame.subarray(0, hdrEnd), frame.subarray(hdrEnd + i * gsoSize, hdrEnd + i * gsoSize + len)]);
    const l4Len = hdrEnd - l4.offset + len;
    if (ip.family === 4) {
      seg.writeUInt16BE(hdrEnd - ip.offset + len, ip.offset + 2);
      if (!opts.fixedId) seg.writeUInt16BE((ip.id + i) & 0xffff, ip.offset + 4);
      seg.writeUInt16BE(0, ip.offset + 10);
      seg.writeUInt16BE(checksum(seg, ip.offset, ip.offset + ip.hdrLen), ip.offset + 10);
    } else {
      seg.writeUInt16BE(hdrEnd - ip.offset - 40 + len, ip.offset + 4);
    }
    if (l4.kind === 'tcp') {
      seg.writeUInt32BE((l4.tcp!.seq + i * gsoSize) >>> 0, l4.offset + 4);
      let flags = l4.tcp!.flags;
      if (i > 0) flags &= ~TCP_CWR;
      if (i < count - 1) flags &= ~(TCP_PSH | TCP_FIN);
      seg[l4.offset + 13] = flags;
    } else {
      seg.writeUInt16BE(l4Len, l4.offset + 4);
    }
    seg.writeUInt16BE(moveSeed(seed, oldL4, l4Len), l4.checksumOffset!);
    segments.push(seg);
  }
  return { segments };
}
