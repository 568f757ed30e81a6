/**
 * Reads a TCP connection to its end through one reusable buffer, handing each
 * chunk to a callback that must not keep it: memory stays bounded whatever
 * the stream's length, and no per-read copy is made. Yields to the event loop
 * every few milliseconds so other actions of the same agent keep running.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import * as C from './consts.js';
import { EAGAIN, syscallError } from './errno.js';
import { lastErrno, libc } from './libc.js';
import type { TcpConnection } from './tcp.js';

/** Longest run of reads before yielding to the event loop. */
const SLICE_MS = 8;

export interface ReadOutcome {
  bytes: number;
  /** The peer ended the stream (recv returned 0). */
  eof: boolean;
  /** process.hrtime.bigint() of the first and last chunk (undefined when none came). */
  firstNs?: bigint;
  lastNs?: bigint;
}

export interface ReadOptions {
  /** Read buffer size (default 1 MiB). */
  bufSize?: number;
  /** Polled between reads: true stops the loop (the caller's time-out or shutdown). */
  stop?: () => boolean;
}

/** Reads until end of stream or `stop()`; recv errors other than EAGAIN throw SYSCALL naming the call. */
export async function readToEnd(conn: TcpConnection, onData: (chunk: Buffer) => void, opts: ReadOptions = {}): Promise<ReadOutcome> {
  const buf = Buffer.allocUnsafe(opts.bufSize ?? 1 << 20);
  const sock = conn.sock;
  const out: ReadOutcome = { bytes: 0, eof: false };
  let until = performance.now() + SLICE_MS;
  while (!opts.stop?.()) {
    sock.ensureOpen('recv()');
    const n = libc().recv(sock.fd, buf, buf.length, C.MSG_DONTWAIT);
    if (n > 0) {
      const now = process.hrtime.bigint();
      out.firstNs ??= now;
      out.lastNs = now;
      out.bytes += n;
      onData(buf.subarray(0, n));
      if (performance.now() >= until) {
        await yieldLoop();
        until = performance.now() + SLICE_MS;
      }
      continue;
    }
    if (n === 0) {
      out.eof = true;
      break;
    }
    const errno = lastErrno();
    if (errno !== EAGAIN) throw syscallError('recv()', errno, sock.what);
    await sock.wait(C.POLLIN, 50);
    until = performance.now() + SLICE_MS;
  }
  return out;
}
