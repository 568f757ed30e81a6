/**
 * sendfile(2) from a file fd (Node's fs.openSync gives a real one) to a
 * socket. Each call runs on a libuv worker: a cold page-cache read must not
 * stall the agent's event loop.
 */
import * as C from './consts.js';
import { EAGAIN, syscallError } from './errno.js';
import { callAsync, libc } from './libc.js';
import { NativeBuffer } from './memory.js';
import type { Socket } from './socket.js';

/** What one sendfile() call did. */
export interface SendfileStep {
  /** Bytes the call sent; 0 means end of file. */
  sent: number;
  /** The file offset after the call. */
  offset: number;
}

/**
 * One sendfile(out, inFd, &offset, count). Resolves null when the socket has
 * no room (EAGAIN); throws SYSCALL on any other failure.
 */
export async function sendfileOnce(out: Socket, inFd: number, offset: number, count: number): Promise<SendfileStep | null> {
  out.ensureOpen('sendfile()');
  const off = new NativeBuffer(8);
  try {
    off.bytes.writeBigInt64LE(BigInt(offset));
    out.enter();
    let r: { ret: number; errno: number };
    try {
      r = await callAsync(libc().sendfile, out.fd, inFd, off.addr, count);
    } finally {
      out.leave();
    }
    if (r.ret < 0) {
      if (r.errno === EAGAIN) return null;
      throw syscallError(`sendfile(in fd ${inFd}, offset ${offset}, count ${count})`, r.errno, out.what);
    }
    return { sent: r.ret, offset: Number(off.bytes.readBigInt64LE(0)) };
  } finally {
    off.free();
  }
}

/** Totals of a sendfileAll. */
export interface SendfileResult {
  sent: number;
  /** sendfile() calls that moved data. */
  calls: number;
}

/**
 * Sends `count` bytes of `inFd` from `offset`, looping over partial sends and
 * waiting for room; stops early at end of file. Throws SYSCALL (EAGAIN) if
 * the socket takes nothing for `stallMs`.
 */
export async function sendfileAll(
  out: Socket,
  inFd: number,
  offset: number,
  count: number,
  opts: { stallMs?: number; maxPerCall?: number } = {},
): Promise<SendfileResult> {
  const stallMs = opts.stallMs ?? 10_000;
  const maxPerCall = opts.maxPerCall ?? 4 << 20;
  let sent = 0;
  let calls = 0;
  let pos = offset;
  let lastProgress = Date.now();
  while (sent < count) {
    const step = await sendfileOnce(out, inFd, pos, Math.min(maxPerCall, count - sent));
    if (step === null) {
      if (Date.now() - lastProgress >= stallMs)
        throw syscallError('sendfile()', EAGAIN, `${out.what} (no room for ${stallMs} ms after ${sent} of ${count} bytes)`);
      await out.wait(C.POLLOUT, stallMs);
      continue;
    }
    if (step.sent === 0) break;
    sent += step.sent;
    calls++;
    pos = step.offset;
    lastProgress = Date.now();
  }
  return { sent, calls };
}
