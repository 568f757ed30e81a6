/**
 * Address text <-> bytes for MAC, IPv4 and IPv6, without node:net: the codec
 * stays pure. IPv6 text follows RFC 5952 (lower case, longest zero run of two
 * or more groups compressed, first run on a tie, IPv4-mapped in dotted form).
 */
import { NicmatrixError } from './errors.js';

export type IpFamily = 4 | 6;

function bad(kind: string, text: string): NicmatrixError {
  return new NicmatrixError('CODEC', `expected a valid ${kind} address, found ${JSON.stringify(text)}`);
}

/** Throws unless buf holds `n` bytes at `off`: a short buffer is a caller's bug, not an address. */
function needBytes(kind: string, buf: Uint8Array, off: number, n: number): void {
  if (off < 0 || off + n > buf.length) {
    throw new NicmatrixError('CODEC', `expected ${n} bytes of ${kind} address at offset ${off}, found a buffer of ${buf.length}`);
  }
}

/** "02:00:00:00:00:01" (or with '-') to 6 bytes. */
export function macToBytes(text: string): Buffer {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) throw bad('MAC', text);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** 6 bytes at `off` to "02:00:00:00:00:01". */
export function bytesToMac(buf: Uint8Array, off = 0): string {
  needBytes('MAC', buf, off, 6);
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(buf[off + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}

/** Dotted quad to 4 bytes; rejects leading zeros (they mean octal to some tools). */
export function ipv4ToBytes(text: string): Buffer {
  const parts = text.split('.');
  if (parts.length !== 4) throw bad('IPv4', text);
  const out = Buffer.alloc(4);
  parts.forEach((p, i) => {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) throw bad('IPv4', text);
    out[i] = Number(p);
  });
  return out;
}

export function bytesToIpv4(buf: Uint8Array, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** IPv6 text (any valid form, with an optional dotted IPv4 tail) to 16 bytes. */
export function ipv6ToBytes(text: string): Buffer {
  if (text.length === 0 || text.length > 45) throw bad('IPv6', text);
  let head = text;
  let tail: Buffer | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    tail = ipv4ToBytes(text.slice(lastColon + 1));
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) throw bad('IPv6', text);
  const groups = (s: string): number[] => {
    if (s === '') return [];
    return s.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad('IPv6', text);
      return parseInt(g, 16);
    });
  };
  const [leftText = '', rightText] = halves;
  const left = groups(leftText);
  const right = rightText === undefined ? [] : groups(rightText);
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) throw bad('IPv6', text);
  const all = [...left, ...new Array<number>(missing).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  if (tail) tail.copy(out, 12);
  return out;
}

/** 16 bytes at `off` to RFC 5952 text. */
export function bytesToIpv6(buf: Uint8Array, off = 0): string {
  needBytes('IPv6', buf, off, 16);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${bytesToIpv4(buf, off + 12)}`;
  }
  // Longest run of zero groups (length >= 2); the first one wins a tie (RFC 5952 4.2.3).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Family of an address text, or undefined if it is neither. */
export function ipFamily(text: string): IpFamily | undefined {
  try {
    ipv4ToBytes(text);
    return 4;
  } catch {
    try {
      ipv6ToBytes(text);
      return 6;
    } catch {
      return undefined;
    }
  }
}

/** Address text (of the given family) to bytes; throws CODEC when it does not parse. */
export function ipToBytes(family: IpFamily, text: string): Buffer {
  return family === 4 ? ipv4ToBytes(text) : ipv6ToBytes(text);
}

/** Canonical text of an address of either family. */
export function canonicalIp(text: string): string {
  const fam = ipFamily(text);
  if (fam === undefined) throw bad('IP', text);
  return fam === 4 ? text : bytesToIpv6(ipv6ToBytes(text));
}
