/**
 * MSG_ZEROCOPY: SO_ZEROCOPY on a socket, send(MSG_ZEROCOPY) from native
 * memory, and the completions the kernel queues on the error queue
 * (sock_extended_err with origin SO_EE_ORIGIN_ZEROCOPY, ee_info..ee_data the
 * range of send calls, ee_code & SO_EE_CODE_ZEROCOPY_COPIED when it copied).
 */
import { NicmatrixError } from '../codec/errors.js';
import * as C from './consts.js';
import { EAGAIN, ENOBUFS, syscallError } from './errno.js';
import { lastErrno, libc } from './libc.js';
import type { NativeBuffer } from './memory.js';
import { RecvBuffers } from './msghdr.js';
import type { Socket } from './socket.js';
import { parseZerocopyCompletion, type ZerocopyCompletion } from './structs.js';

export type { ZerocopyCompletion };

/** Sends with MSG_ZEROCOPY on one socket and tracks which calls completed. */
export class ZerocopySender {
  /** Successful MSG_ZEROCOPY send calls so far (the next call's number). */
  calls = 0;
  /** Completions read so far, in arrival order. */
  readonly completions: ZerocopyCompletion[] = [];
  private done = 0;
  private bufs = new RecvBuffers(1, 128);

  /** Turns SO_ZEROCOPY on for `sock` (TCP, UDP or raw; Linux 4.14+ for TCP). */
  constructor(readonly sock: Socket) {
    sock.setInt(C.SOL_SOCKET, C.SO_ZEROCOPY, 1, 'SO_ZEROCOPY');
  }

  /**
   * One send(MSG_ZEROCOPY) of `length` bytes of `mem` at `offset`. Returns the
   * bytes the kernel took, or null when it has no room (EAGAIN) or too many
   * completions are pending (ENOBUFS: read them, then retry). The memory must
   * stay untouched until the call's completion, unless mutation is the test.
   */
  send(mem: NativeBuffer, offset: number, length: number, flags = 0): number | null {
    this.sock.ensureOpen('send(MSG_ZEROCOPY)');
    if (offset < 0 || length < 0 || offset + length > mem.size) {
      throw new NicmatrixError(
        'INTERNAL',
        `send(MSG_ZEROCOPY): expected a range inside the ${mem.size}-byte buffer, found ${offset}+${length}`,
      );
    }
    const n = libc().send(this.sock.fd, mem.at(offset), length, C.MSG_ZEROCOPY | C.MSG_DONTWAIT | C.MSG_NOSIGNAL | flags);
    if (n < 0) {
      const errno = lastErrno();
      if (errno === EAGAIN || errno === ENOBUFS) return null;
      throw syscallError('send(MSG_ZEROCOPY)', errno, this.sock.what);
    }
    this.calls++;
    return n;
  }

  /** Sends all `length` bytes (several calls if needed), reading completions and waiting for room. */
  async sendAll(mem: NativeBuffer, offset: number, length: number, stallMs = 10_000): Promise<number> {
    let off = 0;
    let lastProgress = Date.now();
    while (off < length) {
      const n = this.send(mem, offset + off, length - off);
      if (n !== null) {
        off += n;
        lastProgress = Date.now();
        continue;
      }
      this.readCompletions();
      if (Date.now() - lastProgress >= stallMs)
        throw syscallError('send(MSG_ZEROCOPY)', EAGAIN, `${this.sock.what} (no room for ${stallMs} ms after ${off} of ${length} bytes)`);
      await this.sock.wait(C.POLLOUT, Math.min(50, stallMs));
    }
    return off;
  }

  /** Reads every queued completion (never blocks); returns the new ones. */
  readCompletions(): ZerocopyCompletion[] {
    const fresh: ZerocopyCompletion[] = [];
    for (;;) {
      const r = this.bufs.recv(this.sock, C.MSG_ERRQUEUE | C.MSG_DONTWAIT, 'recvmsg(MSG_ERRQUEUE)');
      if (!r) break;
      const c = parseZerocopyCompletion(r.cmsgs);
      if (!c) continue;
      fresh.push(c);
      this.done += c.hi - c.lo + 1;
    }
    this.completions.push(...fresh);
    return fresh;
  }

  /** Send calls not yet completed. */
  get pending(): number {
    return this.calls - this.done;
  }

  /** Waits until every call so far completed; false if some had not after `timeoutMs`. */
  async waitAll(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.readCompletions();
      if (this.pending <= 0) return true;
      if (Date.now() >= deadline) return false;
      // An error-queue entry wakes poll() with POLLERR whatever events are asked.
      await this.sock.wait(0, Math.min(50, deadline - Date.now()));
    }
  }

  /** Frees the receive buffers (the socket stays open: its owner closes it). */
  dispose(): void {
    this.bufs.free();
  }
}
