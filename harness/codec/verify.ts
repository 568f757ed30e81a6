/**
 * L4 checksum verdicts on whole frames, and the CHECKSUM_PARTIAL convention.
 *
 * What Linux leaves in the field of a CHECKSUM_PARTIAL packet (checked in the
 * kernel sources and on this machine's 6.18 kernel, see test/unit/codec-known.test.ts):
 * - include/linux/skbuff.h, "DOC: skb checksums": the device checksums from
 *   csum_start to the end of the packet and writes the result at
 *   csum_start + csum_offset; the stack has put the pseudo-header in the field.
 * - net/ipv4/tcp_ipv4.c __tcp_v4_send_check: `th->check = ~tcp_v4_check(len,
 *   saddr, daddr, 0)`; udp4_hwcsum: `uh->check = ~csum_tcpudp_magic(src, dst,
 *   len, IPPROTO_UDP, 0)`. csum_tcpudp_magic is csum_fold (complemented), so the
 *   field holds the pseudo-header sum folded and NOT complemented.
 * - net/core/dev.c skb_checksum_help (the software fallback) stores
 *   `csum_fold(csum) ?: CSUM_MANGLED_0`: a completed field is never 0.
 * The IPv6 pseudo-header here uses the header's destination: a routing header
 * with segments left (final destination elsewhere) is not accounted for.
 */
import { NicmatrixError } from '../../matrix/errors.js';
import { fold, onesSum, pseudoSum, sameOnesComplement, udpTransmitted, IPPROTO_UDP } from './checksum.js';
import { parseFrame, type L4Info, type ParsedFrame } from './frame.js';

export type L4CsumKind = 'ipv4-udp' | 'ipv4-tcp' | 'ipv4-icmp' | 'ipv6-udp' | 'ipv6-tcp' | 'ipv6-icmpv6' | 'none';

/** Verdict on one frame's L4 checksum. `expected`/`found` are -1 when unknown. */
export interface L4Verdict {
  /** True for a checksum a receiver accepts (and for an IPv4 UDP datagram sent without one). */
  ok: boolean;
  /** good; bad; absent (IPv4 UDP field 0); unchecked (fragment, truncated, no L4 checksum: see reason). */
  state: 'good' | 'bad' | 'absent' | 'unchecked';
  /** The value a correct sender puts in the field (UDP zero rule applied). */
  expected: number;
  found: number;
  kind: L4CsumKind;
  reason?: string;
}

function kindOf(p: ParsedFrame): L4CsumKind {
  if (!p.ip || !p.l4 || p.l4.kind === 'other') return 'none';
  if (p.ip.family === 4) return p.l4.kind === 'icmpv6' ? 'none' : (`ipv4-${p.l4.kind}` as L4CsumKind);
  return p.l4.kind === 'icmp' ? 'none' : (`ipv6-${p.l4.kind}` as L4CsumKind);
}

/** Bytes covered by the L4 checksum, or why they cannot be had. */
function coveredLength(p: ParsedFrame, l4: L4Info): number | string {
  let len = l4.length;
  if (l4.udp) {
    if (l4.udp.length < 8 || l4.udp.length > l4.length)
      return `udp length field ${l4.udp.length} does not fit the ${l4.length}-byte IP payload`;
    len = l4.udp.length;
  }
  if (l4.offset + len > p.length) return `truncated: the checksum covers ${len} bytes, ${p.length - l4.offset} captured`;
  return len;
}

/** Checks the L4 checksum of a frame the way a receiver would; never throws. */
export function verifyL4(frame: Uint8Array): L4Verdict {
  const p = parseFrame(frame);
  const kind = kindOf(p);
  const unchecked = (reason: string, found = -1): L4Verdict => ({ ok: false, state: 'unchecked', expected: -1, found, kind, reason });
  if (!p.ip) return unchecked(p.error ?? 'not an IP frame');
  if (p.ip.fragment) return unchecked(`IPv${p.ip.family} fragment (offset ${p.ip.fragment.offset}): reassemble first`);
  const l4 = p.l4;
  if (!l4 || l4.checksumOffset === undefined || l4.checksum === undefined || kind === 'none') {
    return unchecked(p.error ?? `no L4 checksum to check (protocol ${p.ip.proto})`);
  }
  const found = l4.checksum;
  const len = coveredLength(p, l4);
  if (typeof len === 'string') return unchecked(len, found);
  const pseudo = kind === 'ipv4-icmp' ? 0 : pseudoSum(p.ip.family, p.ip.src, p.ip.dst, l4.proto, len);
  const withField = fold(onesSum(frame, l4.offset, l4.offset + len, pseudo));
  // The field sits at an even distance from the L4 start, so the two halves keep their word alignment.
  const f = l4.checksumOffset;
  const zeroed = fold(onesSum(frame, f + 2, l4.offset + len, onesSum(frame, l4.offset, f, pseudo)));
  const expected = udpTransmitted(l4.proto, ~zeroed & 0xffff);
  if (l4.proto === IPPROTO_UDP && found === 0) {
    if (p.ip.family === 4) return { ok: true, state: 'absent', expected, found, kind };
    return { ok: false, state: 'bad', expected, found, kind, reason: 'IPv6 UDP must carry a checksum (RFC 8200 8.1), found 0' };
  }
  const ok = withField === 0xffff;
  return ok
    ? { ok, state: 'good', expected, found, kind }
    : { ok, state: 'bad', expected, found, kind, reason: 'L4 checksum does not sum to 0xffff' };
}

/** csum_start / csum_offset (frame-relative, as in virtio_net_hdr) for a frame's L4 checksum. */
export function partialOffsets(frame: Uint8Array): { csumStart: number; csumOffset: number } | undefined {
  const l4 = parseFrame(frame).l4;
  if (!l4 || l4.checksumOffset === undefined) return undefined;
  return { csumStart: l4.offset, csumOffset: l4.checksumOffset - l4.offset };
}

export interface PartialSeedVerdict {
  ok: boolean;
  /** The folded, non-complemented pseudo-header sum; -1 when it cannot be known. */
  expected: number;
  found: number;
  reason?: string;
}

/** Checks that a CHECKSUM_PARTIAL frame's field holds Linux's pseudo-header seed; never throws. */
export function checkPartialSeed(frame: Uint8Array, csumStart: number, csumOffset: number): PartialSeedVerdict {
  const field = csumStart + csumOffset;
  if (csumStart < 0 || csumOffset < 0 || field + 2 > frame.length) {
    return {
      ok: false,
      expected: -1,
      found: -1,
      reason: `csum_start ${csumStart} + csum_offset ${csumOffset} + 2 exceeds the ${frame.length}-byte frame`,
    };
  }
  const found = (frame[field]! << 8) | frame[field + 1]!;
  const p = parseFrame(frame);
  if (!p.ip || !p.l4 || p.l4.offset !== csumStart || p.l4.checksumOffset !== field) {
    return {
      ok: false,
      expected: -1,
      found,
      reason: "csum_start/csum_offset do not point at a TCP/UDP checksum: the seed is the sender's own",
    };
  }
  const len = p.ip.offset + p.ip.totalLen - csumStart;
  const expected = fold(pseudoSum(p.ip.family, p.ip.src, p.ip.dst, p.l4.proto, len));
  // fold() of a non-zero sum is never 0, but 0xffff and 0 are the same ones'-complement number.
  const ok = sameOnesComplement(found, expected);
  return ok
    ? { ok, expected, found }
    : { ok, expected, found, reason: `field holds 0x${found.toString(16)}, the pseudo-header seed is 0x${expected.toString(16)}` };
}

export interface CompleteOptions {
  /** Sum up to here (default: the frame's end; pass the IP packet's end to leave Ethernet padding out). */
  end?: number;
  /** Write 0xFFFF instead of a computed 0, as skb_checksum_help does (default true). */
  mangleZero?: boolean;
}

/** Completes a CHECKSUM_PARTIAL frame as hardware would; returns a new buffer. */
export function completePartial(frame: Uint8Array, csumStart: number, csumOffset: number, opts: CompleteOptions = {}): Buffer {
  const end = opts.end ?? frame.length;
  const field = csumStart + csumOffset;
  if (csumStart < 0 || csumOffset < 0 || field + 2 > end || end > frame.length) {
    throw new NicmatrixError(
      'CODEC',
      `completePartial: expected csum_start ${csumStart} + csum_offset ${csumOffset} + 2 <= end ${end} <= ${frame.length}`,
    );
  }
  const out = Buffer.from(frame);
  let c = ~fold(onesSum(out, csumStart, end)) & 0xffff;
  if (c === 0 && opts.mangleZero !== false) c = 0xffff;
  out.writeUInt16BE(c, field);
  return out;
}
