import { describe, expect, it } from 'vitest';
import {
  clampRange,
  dataExtents,
  fillBase,
  fillExpected,
  fillFile,
  fillGeneration,
  GEN_KEYS,
  GEN_OF,
  GENERATIONS,
  PAGE,
  patternTable,
  PERIOD,
  POISON,
  streamLength,
} from '../../harness/codec/zc/pattern.js';
import { createRng } from '../../harness/codec/random.js';

/** Independent reference: one byte of base(o), straight from the definition. */
function refByte(seed: number, o: number): number {
  const t = patternTable(seed);
  let v = t[o % PERIOD]!;
  const within = o % PAGE;
  if (within < 8) {
    const page = BigInt(Math.floor(o / PAGE));
    v ^= Number((page >> BigInt(8 * within)) & 0xffn);
  }
  return v;
}

const base = (seed: number, o: number, n: number) => {
  const b = Buffer.alloc(n);
  fillBase(b, seed, o);
  return b;
};

describe('the zc byte pattern', () => {
  it('matches the reference definition around page edges, the period wrap and far offsets', () => {
    const starts = [0, 1, PAGE - 3, PAGE, PERIOD - 5, PERIOD * 3 - 2, 64 * PAGE * PAGE + 7, 2 ** 40 + 4093];
    for (const o of starts) {
      const got = base(42, o, 9000);
      for (let i = 0; i < got.length; i++)
        if (got[i] !== refByte(42, o + i)) throw new Error(`offset ${o + i}: ${got[i]} ≠ ${refByte(42, o + i)}`);
    }
  });

  it('is a function of the offset alone: any split of a range gives the same bytes', () => {
    const rng = createRng(5);
    const whole = base(9, 12_345, 3 * PERIOD);
    for (let k = 0; k < 50; k++) {
      const a = rng.int(0, whole.length - 1);
      const n = rng.int(1, Math.min(70_000, whole.length - a));
      expect(base(9, 12_345 + a, n).equals(whole.subarray(a, a + n))).toBe(true);
    }
  });

  it('no two pages of a 64 MiB file are equal, even a whole period apart', () => {
    const seen = new Set<string>();
    const page = Buffer.alloc(PAGE);
    for (let p = 0; p < 16384; p += 1) {
      fillBase(page, 3, p * PAGE);
      seen.add(page.subarray(0, 64).toString('hex'));
    }
    expect(seen.size).toBe(16384);
    // Stamps tell apart offsets the period alone would confuse.
    expect(base(3, 0, 16).equals(base(3, PERIOD * PAGE, 16))).toBe(false);
  });

  it('depends on the seed', () => {
    expect(base(1, 0, 4096).equals(base(2, 0, 4096))).toBe(false);
  });

  it('generation keys: 0 first, distinct, even weight ≥ 2, and no single bit flip turns one into another', () => {
    expect(GEN_KEYS).toHaveLength(GENERATIONS);
    expect(GEN_KEYS[0]).toBe(0);
    expect(new Set(GEN_KEYS).size).toBe(GENERATIONS);
    for (const k of GEN_KEYS.slice(1)) {
      const w = k
        .toString(2)
        .split('')
        .filter((c) => c === '1').length;
      expect(w % 2 === 0 && w >= 2).toBe(true);
    }
    for (const k of GEN_KEYS) for (let bit = 0; bit < 8; bit++) expect(GEN_OF[k ^ (1 << bit)]).toBe(-1);
    GEN_KEYS.forEach((k, g) => expect(GEN_OF[k]).toBe(g));
    expect(POISON).toBe(GENERATIONS - 1);
  });

  it('generation g is the base XOR its key on every byte; the range check names the generation', () => {
    const g = Buffer.alloc(5000);
    fillGeneration(g, 7, 4000, 5);
    const b = base(7, 4000, 5000);
    for (let i = 0; i < g.length; i++) expect(g[i]! ^ b[i]!).toBe(GEN_KEYS[5]);
    expect(() => fillGeneration(g, 7, 0, GENERATIONS)).toThrow(/expected a generation 0..31, found 32/);
  });

  it('files read as zeros in their holes, pattern elsewhere; data extents are the complement', () => {
    const layout = {
      seed: 4,
      size: 20_000,
      holes: [
        [100, 5000],
        [9000, 20_000],
      ] as [number, number][],
    };
    expect(dataExtents(layout)).toEqual([
      [0, 100],
      [5000, 9000],
    ]);
    expect(dataExtents({ seed: 1, size: 10 })).toEqual([[0, 10]]);
    expect(dataExtents({ seed: 1, size: 0 })).toEqual([]);
    const f = Buffer.alloc(10_000);
    fillFile(f, layout, 50);
    const b = base(4, 50, 10_000);
    for (let i = 0; i < f.length; i++) {
      const o = 50 + i;
      const hole = (o >= 100 && o < 5000) || o >= 9000;
      expect(f[i]).toBe(hole ? 0 : b[i]);
    }
    expect(() => fillFile(Buffer.alloc(10), layout, 19_995)).toThrow(/past the 20000-byte file/);
  });

  it('a stream is count bytes from offset, repeated; positions wrap back to the offset', () => {
    const spec = { file: { seed: 8, size: 10_000 }, offset: 1234, count: 3000, repeat: 3 };
    expect(streamLength(spec)).toBe(9000);
    const got = Buffer.alloc(9000);
    fillExpected(got, spec, 0);
    const once = base(8, 1234, 3000);
    expect(got.equals(Buffer.concat([once, once, once]))).toBe(true);
    const mid = Buffer.alloc(2000);
    fillExpected(mid, spec, 2500);
    expect(mid.equals(got.subarray(2500, 4500))).toBe(true);
  });

  it('sendfile stops at end of file: the range is clamped', () => {
    expect(clampRange(4097, 4000, 1000)).toBe(97);
    expect(clampRange(100, 100, 10)).toBe(0);
    expect(clampRange(100, 200, 10)).toBe(0);
    expect(clampRange(100, 0, 100)).toBe(100);
  });
});
