/**
 * Streaming receivers' oracles: each chunk is compared with the expected
 * bytes as it arrives, so memory stays bounded whatever the stream's length.
 * ExactVerifier: byte-exact stream, SHA-256 and the first differing offset.
 * BlockAttributor: per block, which generations showed up, and any byte that
 * belongs to no generation. Pure (hashing is computation, not I/O).
 */
import { createHash, type Hash } from 'node:crypto';
import { NicmatrixError } from '../errors.js';
import { fillExpected, GEN_OF, type StreamSpec, streamLength } from './pattern.js';

/** Where a stream first went wrong, with 16 bytes of context from there (hex). */
export interface Mismatch {
  offset: number;
  expected: string;
  found: string;
}

export interface ExactResult {
  bytes: number;
  expected: number;
  sha256: string;
  /** Received bytes inside the expected length that differ from it. */
  wrongBytes: number;
  mismatch?: Mismatch;
}

const CONTEXT = 16;

/** A reusable scratch buffer that grows to the largest chunk seen. */
class Scratch {
  private buf = Buffer.alloc(0);
  take(n: number): Buffer {
    if (this.buf.length < n) this.buf = Buffer.alloc(Math.max(n, 64 << 10));
    return this.buf.subarray(0, n);
  }
}

function firstDiff(a: Buffer, b: Buffer): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * Byte-exact stream oracle. The SHA-256 is of the received bytes, computed
 * lazily: while they equal the expected bytes the hash is owed, not computed
 * (the expected prefix is regenerated and hashed on the first mismatch, or at
 * finish), so hashing never slows the stream down.
 */
export class ExactVerifier {
  private pos = 0;
  private wrong = 0;
  private first: Mismatch | undefined;
  /** Stream bytes already fed to the hash; received bytes from here on equal the expected ones. */
  private hashed = 0;
  private readonly total: number;
  private readonly hash: Hash = createHash('sha256');
  private readonly scratch = new Scratch();

  constructor(readonly spec: StreamSpec) {
    this.total = streamLength(spec);
  }

  get received(): number {
    return this.pos;
  }

  update(chunk: Buffer): void {
    const inRange = Math.max(0, Math.min(chunk.length, this.total - this.pos));
    if (inRange > 0 && !this.first) {
      const exp = this.scratch.take(inRange);
      fillExpected(exp, this.spec, this.pos);
      const got = chunk.subarray(0, inRange);
      if (!got.equals(exp)) {
        const at = firstDiff(got, exp);
        this.first = { offset: this.pos + at, expected: hex(exp, at), found: hex(got, at) };
        for (let i = at; i < inRange; i++) if (got[i] !== exp[i]) this.wrong++;
      }
    } else if (inRange > 0) {
      const exp = this.scratch.take(inRange);
      fillExpected(exp, this.spec, this.pos);
      for (let i = 0; i < inRange; i++) if (chunk[i] !== exp[i]) this.wrong++;
    }
    if (chunk.length > inRange && !this.first) this.first = { offset: this.total, expected: '', found: hex(chunk, inRange) };
    if (this.first) {
      this.hashExpected(this.pos);
      this.hash.update(chunk);
      this.hashed = this.pos + chunk.length;
    }
    this.pos += chunk.length;
  }

  /** Feeds the hash the expected bytes it is owed, up to stream position `end`. */
  private hashExpected(end: number): void {
    const step = 1 << 20;
    while (this.hashed < end) {
      const n = Math.min(step, end - this.hashed);
      const exp = this.scratch.take(n);
      fillExpected(exp, this.spec, this.hashed);
      this.hash.update(exp);
      this.hashed += n;
    }
  }

  finish(): ExactResult {
    this.hashExpected(Math.min(this.pos, this.total));
    const out: ExactResult = { bytes: this.pos, expected: this.total, sha256: this.hash.digest('hex'), wrongBytes: this.wrong };
    const short = this.pos < this.total ? { offset: this.pos, expected: 'end of stream', found: 'end of stream' } : undefined;
    const mismatch = this.first ?? short;
    if (mismatch) out.mismatch = mismatch;
    return out;
  }
}

function hex(b: Buffer, at: number): string {
  return b.subarray(at, at + CONTEXT).toString('hex');
}

export interface AttributionResult {
  bytes: number;
  expected: number;
  blockSize: number;
  /** Per block of the file (by file offset / blockSize): bit g set when generation g was received there. */
  masks: Uint32Array;
  /** Received bytes that equal no generation at their offset. */
  foreign: number;
  /** The first few foreign bytes. */
  firstForeign: Mismatch[];
}

const MAX_FOREIGN_SAMPLES = 8;

export class BlockAttributor {
  private pos = 0;
  private foreign = 0;
  private readonly samples: Mismatch[] = [];
  private readonly total: number;
  private readonly masks: Uint32Array;
  private readonly scratch = new Scratch();

  constructor(
    readonly spec: StreamSpec,
    readonly blockSize: number,
  ) {
    if ((spec.repeat ?? 1) !== 1)
      throw new NicmatrixError('INTERNAL', `BlockAttributor: expected a stream sent once, found repeat ${spec.repeat}`);
    if (!Number.isInteger(blockSize) || blockSize <= 0)
      throw new NicmatrixError('INTERNAL', `BlockAttributor: expected a positive block size, found ${blockSize}`);
    this.total = streamLength(spec);
    this.masks = new Uint32Array(Math.ceil(spec.file.size / blockSize));
  }

  update(chunk: Buffer): void {
    const inRange = Math.max(0, Math.min(chunk.length, this.total - this.pos));
    const exp = this.scratch.take(inRange);
    fillExpected(exp, this.spec, this.pos);
    let i = 0;
    while (i < inRange) {
      const fileOff = this.spec.offset + this.pos + i;
      const block = Math.floor(fileOff / this.blockSize);
      const n = Math.min(inRange - i, (block + 1) * this.blockSize - fileOff);
      const got = chunk.subarray(i, i + n);
      const want = exp.subarray(i, i + n);
      // block < masks.length: fillExpected above refused any byte past the file's end.
      if (got.equals(want)) this.masks[block]! |= 1;
      else this.attribute(got, want, block, fileOff);
      i += n;
    }
    if (chunk.length > inRange) {
      this.foreign += chunk.length - inRange;
      if (this.samples.length < MAX_FOREIGN_SAMPLES)
        this.samples.push({ offset: this.spec.offset + this.total, expected: 'end of stream', found: hex(chunk, inRange) });
    }
    this.pos += chunk.length;
  }

  /** Byte by byte: every byte must be some generation's byte at its offset. */
  private attribute(got: Buffer, want: Buffer, block: number, fileOff: number): void {
    let mask = this.masks[block]!;
    for (let k = 0; k < got.length; k++) {
      const g = GEN_OF[got[k]! ^ want[k]!]!;
      if (g >= 0) {
        mask |= 1 << g;
        continue;
      }
      this.foreign++;
      if (this.samples.length < MAX_FOREIGN_SAMPLES) this.samples.push({ offset: fileOff + k, expected: hex(want, k), found: hex(got, k) });
    }
    this.masks[block] = mask >>> 0;
  }

  finish(): AttributionResult {
    return {
      bytes: this.pos,
      expected: this.total,
      blockSize: this.blockSize,
      masks: this.masks,
      foreign: this.foreign,
      firstForeign: this.samples,
    };
  }
}

/** Block masks as RPC text (little-endian u32s, base64). */
export function encodeMasks(m: Uint32Array): string {
  return Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64');
}

export function decodeMasks(text: string): Uint32Array {
  const b = Buffer.from(text, 'base64');
  if (b.length % 4 !== 0) throw new NicmatrixError('CODEC', `block masks: expected a multiple of 4 bytes, found ${b.length}`);
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt32LE(4 * i);
  return out;
}
