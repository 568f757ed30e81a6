import { describe, expect, it } from 'vitest';
import { createRng } from '../../harness/codec/random.js';

describe('createRng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 50 }, () => a.u32());
    expect(Array.from({ length: 50 }, () => b.u32())).toEqual(sa);
    expect(Array.from({ length: 50 }, () => c.u32())).not.toEqual(sa);
    expect(a.seed).toBe(42);
    expect(createRng(-1).seed).toBe(0xffffffff);
  });

  it('int(lo, hi) stays in range, includes both ends, and is roughly uniform', () => {
    const r = createRng(7);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) {
      const x = r.int(-2, 3);
      expect(Number.isInteger(x) && x >= -2 && x <= 3).toBe(true);
      counts[x + 2]!++;
    }
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(600);
    expect(r.int(5, 5)).toBe(5);
    expect(() => r.int(3, 2)).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'INTERNAL' }));
    const wide = r.int(0, 2 ** 40);
    expect(wide >= 0 && wide <= 2 ** 40).toBe(true);
  });

  it('bytes(n) gives n bytes for every n, deterministically', () => {
    for (let n = 0; n < 20; n++) {
      const x = createRng(n).bytes(n);
      expect(x.length).toBe(n);
      expect(createRng(n).bytes(n).equals(x)).toBe(true);
    }
    const big = createRng(1).bytes(100_000);
    const ones = big.reduce((s, b) => s + (b & 1), 0);
    expect(Math.abs(ones - 50_000)).toBeLessThan(1_000);
  });

  it('pick and shuffle', () => {
    const r = createRng(9);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const sh = r.shuffle(items);
    expect([...sh].sort()).toEqual(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(items).toContain(r.pick(items));
    expect(() => r.pick([])).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'INTERNAL' }));
    const f = r.float();
    expect(f >= 0 && f < 1).toBe(true);
  });
});
