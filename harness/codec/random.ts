/**
 * Seeded pseudo-random numbers (mulberry32): every random choice a check or a
 * test makes comes from one logged seed, so a failure can be replayed exactly.
 * Not for cryptography.
 */

import { NicmatrixError } from '../../matrix/errors.js';

/** A deterministic random source; the same seed gives the same sequence. */
export interface Rng {
  /** The seed this generator was created with (for logs and evidence). */
  readonly seed: number;
  /** Uniform unsigned 32-bit integer. */
  u32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number;
  /** True with probability p (default 0.5). */
  bool(p?: number): boolean;
  /** n random bytes. */
  bytes(n: number): Buffer;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher-Yates); the input is left alone. */
  shuffle<T>(items: readonly T[]): T[];
}

/** Creates a generator; any number is accepted and reduced to 32 bits. */
export function createRng(seed: number): Rng {
  const seed32 = Math.trunc(seed) >>> 0;
  let state = seed32;
  const u32 = (): number => {
    // mulberry32: a 32-bit counter pushed through an avalanche mix.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const float = (): number => u32() / 0x1_0000_0000;
  const int = (lo: number, hi: number): number => {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new NicmatrixError('INTERNAL', `rng.int: expected integers lo <= hi, found lo=${lo} hi=${hi}`);
    }
    const span = hi - lo + 1;
    if (span <= 0x1_0000_0000) {
      // Rejection sampling keeps the result unbiased for spans that do not divide 2^32.
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % span);
      let x = u32();
      while (x >= limit) x = u32();
      return lo + (x % span);
    }
    return lo + Math.floor(((u32() * 0x1_0000_0000 + u32()) / 2 ** 64) * span);
  };
  return {
    seed: seed32,
    u32,
    float,
    int,
    bool: (p = 0.5) => float() < p,
    bytes(n: number): Buffer {
      const out = Buffer.allocUnsafe(n);
      let i = 0;
      for (; i + 4 <= n; i += 4) out.writeUInt32LE(u32(), i);
      if (i < n) {
        const last = u32();
        for (let k = 0; i < n; i++, k++) out[i] = (last >>> (8 * k)) & 0xff;
      }
      return out;
    },
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new NicmatrixError('INTERNAL', 'rng.pick: expected a non-empty array, found an empty one');
      return items[int(0, items.length - 1)]!;
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}
