/**
 * The bytes zero-copy checks send: a pure function of (seed, offset,
 * generation), so a receiver checks each byte as it streams without holding
 * the file. base(o) = T[o mod PERIOD] XOR stamp(o), where T is PERIOD seeded
 * random bytes and stamp(o) lays the 4 KiB page index (u64 LE) over the first
 * 8 bytes of each page: no two pages look alike. Generation g is base XOR
 * GEN_KEYS[g] on every byte. Pure.
 */
import { NicmatrixError } from '../errors.js';
import { createRng } from '../random.js';

/** Period of the random table: a prime, so a shift by whole pages never lines up with it. */
export const PERIOD = 1_048_573;
export const PAGE = 4096;
/** Generation codes 0..31; 0 is what the file or buffer held first. */
export const GENERATIONS = 32;
/** The code written after a MSG_ZEROCOPY completion: it must never reach the wire. */
export const POISON = GENERATIONS - 1;

/**
 * XOR key of each generation: 0 for generation 0, then distinct bytes of even
 * weight ≥ 2, so a single flipped bit never turns one generation into another.
 */
export const GEN_KEYS: readonly number[] = (() => {
  const keys = [0];
  for (let v = 1; v < 256 && keys.length < GENERATIONS; v++) {
    const w = v.toString(2).replace(/0/g, '').length;
    if (w % 2 === 0) keys.push(v);
  }
  return keys;
})();

/** Byte difference (received XOR base) → generation code, or -1 when it is no generation's. */
export const GEN_OF: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  GEN_KEYS.forEach((k, g) => (t[k] = g));
  return t;
})();

const tables = new Map<number, Buffer>();

/** The seeded random table T (cached: the last few seeds). */
export function patternTable(seed: number): Buffer {
  const s = seed >>> 0;
  let t = tables.get(s);
  if (!t) {
    t = createRng(s ^ 0x7a3c_5e11).bytes(PERIOD);
    if (tables.size >= 4) tables.delete(tables.keys().next().value as number);
    tables.set(s, t);
  }
  return t;
}

/** Writes base(offset … offset + dst.length) of `seed` into `dst`. */
export function fillBase(dst: Buffer, seed: number, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new NicmatrixError('INTERNAL', `fillBase: expected a non-negative offset, found ${offset}`);
  const t = patternTable(seed);
  let done = 0;
  while (done < dst.length) {
    const pos = (offset + done) % PERIOD;
    done += t.copy(dst, done, pos, Math.min(PERIOD, pos + dst.length - done));
  }
  stamp(dst, offset);
}

/** XORs the page index over the first 8 bytes of every page `dst` touches. */
function stamp(dst: Buffer, offset: number): void {
  const end = offset + dst.length;
  for (let page = Math.floor(offset / PAGE); page * PAGE < end; page++) {
    const lo = page >>> 0;
    const hi = Math.floor(page / 0x1_0000_0000) >>> 0;
    for (let j = 0; j < 8; j++) {
      const at = page * PAGE + j - offset;
      if (at < 0 || at >= dst.length) continue;
      dst[at]! ^= j < 4 ? (lo >>> (8 * j)) & 0xff : (hi >>> (8 * (j - 4))) & 0xff;
    }
  }
}

/** Writes generation `gen` of `seed` at `offset` into `dst`. */
export function fillGeneration(dst: Buffer, seed: number, offset: number, gen: number): void {
  if (!Number.isInteger(gen) || gen < 0 || gen >= GENERATIONS)
    throw new NicmatrixError('INTERNAL', `fillGeneration: expected a generation 0..${GENERATIONS - 1}, found ${gen}`);
  fillBase(dst, seed, offset);
  const key = GEN_KEYS[gen]!;
  if (key !== 0) for (let i = 0; i < dst.length; i++) dst[i]! ^= key;
}

/** A file as the checks lay it out: pattern bytes except in holes (sparse, read as zeros). */
export interface FileLayout {
  seed: number;
  size: number;
  /** Sorted, disjoint [start, end) ranges never written. */
  holes?: [number, number][];
}

/** Writes the file's content at `offset` into `dst` (pattern, zeros in holes, nothing past the end). */
export function fillFile(dst: Buffer, layout: FileLayout, offset: number): void {
  if (offset + dst.length > layout.size)
    throw new NicmatrixError('INTERNAL', `fillFile: ${offset}+${dst.length} lies past the ${layout.size}-byte file`);
  fillBase(dst, layout.seed, offset);
  for (const [a, b] of layout.holes ?? []) {
    const from = Math.max(a, offset);
    const to = Math.min(b, offset + dst.length);
    if (from < to) dst.fill(0, from - offset, to - offset);
  }
}

/** The [start, end) ranges outside the layout's holes: what a writer must write. */
export function dataExtents(layout: FileLayout): [number, number][] {
  const out: [number, number][] = [];
  let pos = 0;
  for (const [a, b] of layout.holes ?? []) {
    if (a > pos) out.push([pos, a]);
    pos = Math.max(pos, b);
  }
  if (pos < layout.size) out.push([pos, layout.size]);
  return out;
}

/** What a receiver expects: `count` bytes of a file from `offset`, `repeat` times over. */
export interface StreamSpec {
  file: FileLayout;
  offset: number;
  count: number;
  repeat?: number;
}

/** Bytes the whole stream holds. */
export function streamLength(spec: StreamSpec): number {
  return spec.count * (spec.repeat ?? 1);
}

/** Writes the expected stream bytes at stream position `pos` into `dst`. */
export function fillExpected(dst: Buffer, spec: StreamSpec, pos: number): void {
  let done = 0;
  while (done < dst.length) {
    const within = (pos + done) % spec.count;
    const n = Math.min(dst.length - done, spec.count - within);
    fillFile(dst.subarray(done, done + n), spec.file, spec.offset + within);
    done += n;
  }
}

/** The bytes a sendfile of `count` from `offset` really sends: it stops at end of file. */
export function clampRange(size: number, offset: number, count: number): number {
  return Math.max(0, Math.min(count, size - offset));
}
