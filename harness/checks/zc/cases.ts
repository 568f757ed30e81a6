/**
 * The sendfile plan: which files the DUT holds (sizes around a page, 1 MiB,
 * a large one, a sparse one) and which ranges of them it sends (whole files,
 * non-zero start offsets, partial ranges, ranges past the end). The large size
 * shrinks on links too slow to move 64 MiB within a budget. Pure.
 */
import type { FileLayout } from '../../codec/zc/pattern.js';

export const MiB = 1 << 20;
export const LARGE_SIZE = 64 * MiB;
export const SPARSE_SIZE = 8 * MiB;
/** Longest the large whole-file case should take, judged from the 1 MiB case's rate. */
export const LARGE_BUDGET_MS = 20_000;
/** The large file never takes more than this share of the DUT's available memory (tmpfs is RAM). */
export const LARGE_MEMORY_SHARE = 0.5;
/** Smallest "large" file, so the large cases still span many calls and segments. */
export const LARGE_FLOOR = 2 * MiB;

/** Data extents of the sparse file; the rest are holes. */
const SPARSE_DATA: [number, number][] = [
  [0, 65536],
  [MiB - 100, MiB + 4097],
  [5 * MiB + 123, 5 * MiB + 200_123],
  [SPARSE_SIZE - 1000, SPARSE_SIZE],
];

function holesOf(size: number, data: [number, number][]): [number, number][] {
  const holes: [number, number][] = [];
  let pos = 0;
  for (const [a, b] of data) {
    if (a > pos) holes.push([pos, a]);
    pos = b;
  }
  if (pos < size) holes.push([pos, size]);
  return holes;
}

/** The small files by name; every seed derives from the check's seed. */
export function smallFiles(seed: number): Record<string, FileLayout> {
  const s = (k: number) => (seed + k * 0x9e37_79b9) >>> 0;
  return {
    empty: { seed: s(1), size: 0 },
    one: { seed: s(2), size: 1 },
    'page-1': { seed: s(3), size: 4095 },
    page: { seed: s(4), size: 4096 },
    'page+1': { seed: s(5), size: 4097 },
    '1MiB': { seed: s(6), size: MiB },
    sparse: { seed: s(7), size: SPARSE_SIZE, holes: holesOf(SPARSE_SIZE, SPARSE_DATA) },
  };
}

export function largeFile(seed: number, size: number): FileLayout {
  return { seed: (seed + 8 * 0x9e37_79b9) >>> 0, size };
}

/** One sendfile: `count` bytes of `file` from `offset` (the kernel stops at end of file). */
export interface SendCase {
  name: string;
  file: string;
  offset: number;
  count: number;
}

const whole = (file: string, size: number): SendCase => ({ name: `whole ${file}`, file, offset: 0, count: size });
const range = (file: string, offset: number, count: number, what = 'range'): SendCase => ({
  name: `${what} ${file} [${offset}, +${count})`,
  file,
  offset,
  count,
});

/** The cases on the small files, 1 MiB first (its rate sizes the large file). */
export function smallCases(): SendCase[] {
  return [
    whole('1MiB', MiB),
    whole('empty', 0),
    whole('one', 1),
    whole('page-1', 4095),
    whole('page', 4096),
    whole('page+1', 4097),
    whole('sparse', SPARSE_SIZE),
    range('1MiB', 1, MiB - 1, 'from offset'),
    range('1MiB', 4095, MiB - 4095, 'from offset'),
    range('1MiB', 4097, MiB - 4097, 'from offset'),
    range('page+1', 4096, 1, 'from offset'),
    range('1MiB', 12_345, 100_000),
    range('1MiB', 4096, 4096),
    range('1MiB', 1, 1),
    range('sparse', 65536 - 10, 2 * MiB),
    range('sparse', MiB - 4096, 8192),
    range('page+1', 4000, 1000, 'past end of file'),
    range('1MiB', MiB, 10, 'at end of file'),
  ];
}

/** The case whose frames the peer captures and judges one by one (about 1 MiB over IPv4). */
export const WIRE_CASE = 'from offset 1MiB [4097, +1044479)';

export function largeCases(size: number): SendCase[] {
  const mid = Math.floor(size / 2) + 3;
  return [whole('large', size), range('large', mid, Math.min(5 * MiB, Math.floor(size / 4)))];
}

/** The large file's size: 64 MiB unless the link or the DUT's memory cannot take it; why when smaller. */
export function planLargeSize(rateBps: number | undefined, memAvailableBytes: number): { size: number; reason?: string } {
  let size = LARGE_SIZE;
  let reason: string | undefined;
  if (rateBps !== undefined && rateBps > 0 && (LARGE_SIZE / rateBps) * 1000 > LARGE_BUDGET_MS) {
    size = Math.floor((rateBps * LARGE_BUDGET_MS) / 1000 / MiB) * MiB;
    reason = `the 1 MiB case moved ${Math.round(rateBps)} B/s: 64 MiB would take ${Math.round(LARGE_SIZE / rateBps)} s, over the ${LARGE_BUDGET_MS / 1000} s budget`;
  }
  const memCap = Math.floor((memAvailableBytes * LARGE_MEMORY_SHARE) / MiB) * MiB;
  if (memCap < size) {
    size = memCap;
    reason = `the DUT has ${Math.round(memAvailableBytes / MiB)} MiB available: its tmpfs file may take ${LARGE_MEMORY_SHARE * 100}% of it`;
  }
  return size >= LARGE_SIZE ? { size: LARGE_SIZE } : { size: Math.max(LARGE_FLOOR, size), reason };
}
