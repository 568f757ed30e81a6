/**
 * Internet checksum maths (RFC 1071), pseudo-headers, and incremental update
 * (RFC 1624). Sums are big-endian 16-bit words; a 32-bit accumulator is
 * returned unfolded so sums of pieces can be added like the kernel's __wsum.
 * Frame-level verifiers live in `codec/verify.ts`.
 */
import { NicmatrixError } from '../../matrix/errors.js';
import { ipToBytes, type IpFamily } from './addr.js';

/** An address as text or as its raw 4/16 bytes. */
export type AddrLike = string | Uint8Array;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** What a UDP sender puts in the field when the computed checksum is 0 (RFC 768; the kernel's CSUM_MANGLED_0). */
export const UDP_ZERO_REPLACEMENT = 0xffff;

/** Reduces any non-negative sum to 32 bits with end-around carry. */
function to32(sum: number): number {
  while (sum > 0xffffffff) sum = (sum % 0x1_0000_0000) + Math.floor(sum / 0x1_0000_0000);
  return sum;
}

/**
 * Ones'-complement sum of buf[start, end) as 16-bit big-endian words, added to
 * `initial`; an odd trailing byte is padded with a zero low byte. Unfolded (< 2^32).
 */
export function onesSum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new NicmatrixError('CODEC', `onesSum: expected 0 <= start <= end <= ${buf.length}, found start=${start} end=${end}`);
  }
  let sum = 0;
  let i = start;
  // Plain double arithmetic holds 2^53 exactly: 9000 bytes of words cannot overflow it.
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return to32(sum + to32(initial));
}

/** Folds a sum to 16 bits with end-around carry; NOT complemented. */
export function fold(sum: number): number {
  sum = to32(sum);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum of buf[start, end): ~fold(onesSum), 16 bits. */
export function checksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return ~fold(onesSum(buf, start, end, initial)) & 0xffff;
}

function addrBytes(family: IpFamily, a: AddrLike): Uint8Array {
  const bytes = typeof a === 'string' ? ipToBytes(family, a) : a;
  const want = family === 4 ? 4 : 16;
  if (bytes.length !== want) {
    throw new NicmatrixError('CODEC', `pseudo-header: expected a ${want}-byte IPv${family} address, found ${bytes.length} bytes`);
  }
  return bytes;
}

/** Sum of the IPv4 pseudo-header (RFC 793/768): src, dst, zero+protocol, L4 length. */
export function pseudoSumV4(src: AddrLike, dst: AddrLike, proto: number, l4len: number): number {
  return to32(onesSum(addrBytes(4, src)) + onesSum(addrBytes(4, dst)) + (proto & 0xff) + (l4len & 0xffff));
}

/** Sum of the IPv6 pseudo-header (RFC 8200 8.1): src, dst, 32-bit upper-layer length, next header. */
export function pseudoSumV6(src: AddrLike, dst: AddrLike, l4len: number, nextHeader: number): number {
  const len32 = l4len >>> 0;
  return to32(onesSum(addrBytes(6, src)) + onesSum(addrBytes(6, dst)) + (len32 >>> 16) + (len32 & 0xffff) + (nextHeader & 0xff));
}

/** Pseudo-header sum of either family. */
export function pseudoSum(family: IpFamily, src: AddrLike, dst: AddrLike, proto: number, l4len: number): number {
  return family === 4 ? pseudoSumV4(src, dst, proto, l4len) : pseudoSumV6(src, dst, l4len, proto);
}

/**
 * The value to store in the L4 checksum field of `l4` (header + data, whose
 * checksum field must already be zero), UDP zero rule applied.
 */
export function l4Checksum(family: IpFamily, src: AddrLike, dst: AddrLike, proto: number, l4: Uint8Array): number {
  const c = checksum(l4, 0, l4.length, pseudoSum(family, src, dst, proto, l4.length));
  return udpTransmitted(proto, c);
}

/** A computed 0 goes out as 0xFFFF for UDP (0 would mean "no checksum" on IPv4); other protocols unchanged. */
export function udpTransmitted(proto: number, computed: number): number {
  return proto === IPPROTO_UDP && computed === 0 ? UDP_ZERO_REPLACEMENT : computed;
}

/**
 * The seed Linux leaves in the field for CHECKSUM_PARTIAL: the pseudo-header
 * sum folded and NOT complemented (sources cited in codec/verify.ts).
 */
export function partialSeed(family: IpFamily, src: AddrLike, dst: AddrLike, proto: number, l4len: number): number {
  return fold(pseudoSum(family, src, dst, proto, l4len));
}

/** RFC 1624 eqn. 3: new checksum after one 16-bit word changed from m to m2: ~(~HC + ~m + m2). */
export function updateChecksum16(hc: number, m: number, m2: number): number {
  return ~fold((~hc & 0xffff) + (~m & 0xffff) + (m2 & 0xffff)) & 0xffff;
}

/**
 * RFC 1624 for any byte change: `oldBytes` at `offset` (counted from where the
 * checksummed area starts, so its parity says high or low byte) became `newBytes`
 * (same length). Returns the new checksum.
 */
export function updateChecksumBytes(hc: number, offset: number, oldBytes: Uint8Array, newBytes: Uint8Array): number {
  if (oldBytes.length !== newBytes.length) {
    throw new NicmatrixError('CODEC', `updateChecksumBytes: expected equal lengths, found ${oldBytes.length} and ${newBytes.length}`);
  }
  const shift = offset & 1;
  const align = (b: Uint8Array): Uint8Array => {
    if (shift === 0) return b;
    const out = new Uint8Array(b.length + 1);
    out.set(b, 1);
    return out;
  };
  const m = fold(onesSum(align(oldBytes)));
  const m2 = fold(onesSum(align(newBytes)));
  return updateChecksum16(hc, m, m2);
}

/** True when two 16-bit checksums are equal in ones' complement (0x0000 and 0xFFFF both encode zero). */
export function sameOnesComplement(a: number, b: number): boolean {
  const n = (x: number): number => ((x & 0xffff) === 0xffff ? 0 : x & 0xffff);
  return n(a) === n(b);
}
