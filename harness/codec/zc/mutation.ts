/**
 * What the user wrote while data was in flight, block by block: the other
 * half of the mutation oracle. Writes are whole aligned blocks; each block
 * takes at most MAX_WRITES_PER_BLOCK generations, so a corrupted byte passes
 * for a written one with probability at most MAX_WRITES_PER_BLOCK / 255. Pure.
 */
import { NicmatrixError } from '../errors.js';
import type { Rng } from '../random.js';
import { POISON } from './pattern.js';

export const MAX_WRITES_PER_BLOCK = 2;

export class WriteLog {
  /** Per block: bit g when the user wrote generation g there while it could still be sent. */
  readonly written: Uint32Array;
  /** Per block: 1 when it was overwritten (POISON) after every send covering it completed. */
  readonly poisoned: Uint8Array;
  private readonly counts: Uint8Array;
  private code = 0;
  /** Block writes made (poison included). */
  writes = 0;

  constructor(
    readonly size: number,
    readonly blockSize: number,
  ) {
    const n = Math.ceil(size / blockSize);
    this.written = new Uint32Array(n);
    this.poisoned = new Uint8Array(n);
    this.counts = new Uint8Array(n);
  }

  get blocks(): number {
    return this.written.length;
  }

  /** Next generation code, rotating through 1 … POISON-1 (equal codes write equal bytes). */
  nextCode(): number {
    this.code = (this.code % (POISON - 1)) + 1;
    return this.code;
  }

  /** Whether block `b` may take another in-flight write. */
  hasRoom(b: number): boolean {
    // A block outside the buffer has no room: record() then refuses it.
    const count = this.counts[b];
    return count !== undefined && count < MAX_WRITES_PER_BLOCK && this.poisoned[b] === 0;
  }

  record(b: number, code: number): void {
    if (code <= 0 || code >= POISON)
      throw new NicmatrixError('INTERNAL', `WriteLog.record: expected a code 1..${POISON - 1}, found ${code}`);
    if (!Number.isInteger(b) || b < 0 || b >= this.blocks)
      throw new NicmatrixError('INTERNAL', `WriteLog.record: expected a block 0..${this.blocks - 1}, found ${b}`);
    if (!this.hasRoom(b))
      throw new NicmatrixError(
        'INTERNAL',
        `WriteLog.record: block ${b} already took ${this.counts[b]} writes${this.poisoned[b] ? ' and its poison' : ''}`,
      );
    this.written[b] = (this.written[b]! | (1 << code)) >>> 0;
    this.counts[b]!++;
    this.writes++;
  }

  recordPoison(b: number): void {
    this.poisoned[b] = 1;
    this.writes++;
  }

  /** [start, end) byte range of block `b`. */
  range(b: number): [number, number] {
    return [b * this.blockSize, Math.min(this.size, (b + 1) * this.blockSize)];
  }
}

/** Blocks lying wholly inside [from, to). */
export function blocksWithin(from: number, to: number, blockSize: number, size: number): number[] {
  const out: number[] = [];
  for (let b = Math.ceil(from / blockSize); b * blockSize < to; b++) {
    const end = Math.min(size, (b + 1) * blockSize);
    if (end <= to) out.push(b);
  }
  return out;
}

/**
 * Plans the writes after a send took [from, to): each whole block there is
 * written with probability `p`, then again with probability p². Returns
 * (block, code) pairs in write order, already recorded in `log`.
 */
export function planWrites(rng: Rng, log: WriteLog, from: number, to: number, p = 0.5): { block: number; code: number }[] {
  const out: { block: number; code: number }[] = [];
  for (const round of [p, p * p]) {
    for (const b of blocksWithin(from, to, log.blockSize, log.size)) {
      if (!log.hasRoom(b) || !rng.bool(round)) continue;
      const code = log.nextCode();
      log.record(b, code);
      out.push({ block: b, code });
    }
  }
  return out;
}

/**
 * Sends are numbered 0, 1, … and each covers a byte range; blocks become
 * poisonable once every send touching them completed. Tracks the completed
 * prefix of the buffer.
 */
export class CompletionFrontier {
  private readonly ends: number[] = [];
  private readonly done: boolean[] = [];
  private prefix = 0;

  /** Send `call` took bytes up to `end` (sends are sequential). */
  sent(call: number, end: number): void {
    this.ends[call] = end;
    this.done[call] ??= false;
  }

  complete(lo: number, hi: number): void {
    for (let c = lo; c <= hi; c++) this.done[c] = true;
  }

  /** Bytes [0, frontier) whose sends all completed. */
  frontier(): number {
    while (this.prefix < this.ends.length && this.done[this.prefix] && this.ends[this.prefix] !== undefined) this.prefix++;
    return this.prefix === 0 ? 0 : this.ends[this.prefix - 1]!;
  }
}
