/** IPv4 options (RFC 791): walk them, and keep the ones copied into every fragment. */

/** Option type bit: the option is copied into every fragment. */
export const IPOPT_COPY = 0x80;
export const IPOPT_END = 0;
export const IPOPT_NOOP = 1;

/** One option found in a header (offsets are frame offsets). */
export interface IpOption {
  type: number;
  offset: number;
  /** Whole option length, type byte included (1 for END/NOOP). */
  length: number;
}

/** Walks options in buf[start, end) into `out`; returns what was malformed, if anything. */
export function parseIpv4Options(buf: Uint8Array, start: number, end: number, out: IpOption[]): string | undefined {
  let i = start;
  while (i < end) {
    const type = buf[i]!;
    if (type === IPOPT_END) {
      out.push({ type, offset: i, length: 1 });
      return undefined;
    }
    if (type === IPOPT_NOOP) {
      out.push({ type, offset: i, length: 1 });
      i++;
      continue;
    }
    if (i + 1 >= end) return `ipv4: option ${type} at offset ${i} has no length byte`;
    const length = buf[i + 1]!;
    if (length < 2 || i + length > end) return `ipv4: option ${type} at offset ${i} has length ${length}, ${end - i} bytes left`;
    out.push({ type, offset: i, length });
    i += length;
  }
  return undefined;
}

/** Options of a first fragment that must be copied into the later ones (copy bit set), re-padded. */
export function copiedOptions(options: Uint8Array): Buffer {
  const kept: number[] = [];
  let i = 0;
  while (i < options.length) {
    const type = options[i]!;
    if (type === IPOPT_END) break;
    if (type === IPOPT_NOOP) {
      i++;
      continue;
    }
    const len = options[i + 1] ?? 0;
    if (len < 2 || i + len > options.length) break;
    if (type & IPOPT_COPY) kept.push(...options.subarray(i, i + len));
    i += len;
  }
  return Buffer.from(kept);
}
