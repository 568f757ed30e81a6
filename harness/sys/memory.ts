/**
 * Memory outside the JS heap, for structs that hold pointers (msghdr → iovec →
 * data) and for MSG_ZEROCOPY buffers the kernel reads after send() returns:
 * its address never moves and only `free()` releases it.
 */
import koffi from 'koffi';
import { NicmatrixError } from '../codec/errors.js';

export class NativeBuffer {
  /** Native address of the first byte. */
  readonly addr: bigint;
  private view: Buffer | null;
  private raw: unknown;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size <= 0)
      throw new NicmatrixError('INTERNAL', `NativeBuffer: expected a positive integer size, found ${size}`);
    this.raw = koffi.alloc('uint8_t', size);
    this.addr = koffi.address(this.raw);
    this.view = Buffer.from(koffi.view(this.raw, size));
    this.view.fill(0);
  }

  /** The bytes, as a Buffer over the native memory (no copy); invalid after free(). */
  get bytes(): Buffer {
    if (!this.view) throw new NicmatrixError('INTERNAL', `NativeBuffer of ${this.size} bytes used after free()`);
    return this.view;
  }

  /** Address of byte `offset`, for pointers stored in other structs. */
  at(offset: number): bigint {
    if (offset < 0 || offset > this.size) throw new NicmatrixError('INTERNAL', `NativeBuffer: offset ${offset} outside 0..${this.size}`);
    return this.addr + BigInt(offset);
  }

  get freed(): boolean {
    return this.view === null;
  }

  /** Releases the memory; the kernel must no longer use it (zero-copy sends completed). */
  free(): void {
    if (!this.view) return;
    this.view = null;
    koffi.free(this.raw);
    this.raw = null;
  }
}
