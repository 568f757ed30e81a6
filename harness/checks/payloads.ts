/** Payload plans for the checksum checks, transmit and receive (pure, seeded). */
import { NicmatrixError } from '../codec/errors.js';
import { fold, onesSum, pseudoSum, IPPROTO_UDP } from '../codec/checksum.js';
import type { IpFamily } from '../codec/index.js';
import type { Rng } from '../codec/random.js';

/** Packets per case: the issue asks for at least 100. */
export const PACKETS_PER_CASE = 100;

/** Ethernet frames above this are not asked of devices with a jumbo MTU (lo): the capture stays small. */
export const MAX_FRAME = 9018;

/** Largest UDP payload that fits one frame of this MTU without fragmenting. */
export function maxUdpPayload(family: IpFamily, mtu: number, extra = 0): number {
  return Math.min(mtu, MAX_FRAME - 18) - (family === 4 ? 20 : 40) - 8 - extra;
}

/** Lengths 0, 1, 2, max-1, max, then random ones with about half odd. */
export function payloadLengths(rng: Rng, count: number, min: number, max: number): number[] {
  const fixed = [min, min + 1, min + 2, max - 1, max].filter((n) => n >= min && n <= max);
  const out = [...new Set(fixed)];
  while (out.length < count) out.push(rng.int(min, max));
  return rng.shuffle(out);
}

export function randomPayloads(rng: Rng, lengths: readonly number[]): Buffer[] {
  return lengths.map((n) => rng.bytes(n));
}

/**
 * A payload whose UDP checksum folds to zero: the two bytes at an even offset
 * are chosen so that pseudo-header + header + payload sum to 0xFFFF.
 */
export function zeroSumPayload(
  rng: Rng,
  len: number,
  flow: { family: IpFamily; src: string; dst: string; sport: number; dport: number },
): Buffer {
  if (len < 2) throw new NicmatrixError('INTERNAL', `zeroSumPayload: expected a length ≥ 2, found ${len}`);
  const payload = rng.bytes(len);
  const at = 2 * rng.int(0, Math.floor(len / 2) - 1);
  payload.writeUInt16BE(0, at);
  const udpLen = 8 + len;
  const header = Buffer.alloc(8);
  header.writeUInt16BE(flow.sport, 0);
  header.writeUInt16BE(flow.dport, 2);
  header.writeUInt16BE(udpLen, 4);
  const sum = onesSum(payload, 0, len, onesSum(header, 0, 8, pseudoSum(flow.family, flow.src, flow.dst, IPPROTO_UDP, udpLen)));
  payload.writeUInt16BE(~fold(sum) & 0xffff, at);
  return payload;
}

/** Summary of the lengths sent, for evidence. */
export function lengthSummary(lengths: readonly number[]): { count: number; min: number; max: number; odd: number } {
  return { count: lengths.length, min: Math.min(...lengths), max: Math.max(...lengths), odd: lengths.filter((n) => n % 2 === 1).length };
}
