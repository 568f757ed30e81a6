/**
 * A socket fd opened through libc, always non-blocking: waits go through
 * poll() on a libuv worker (koffi async call) in slices of at most
 * POLL_SLICE_MS, so Node's event loop never blocks and close() never races a
 * poll on a reused fd number.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NicmatrixError } from '../codec/errors.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK } from './consts.js';
import { check, EINTR, syscallError } from './errno.js';
import { callAsync, libc } from './libc.js';
import { NativeBuffer } from './memory.js';
import { decodeSockaddrIn, type InetAddr, SOCKADDR_STORAGE_SIZE } from './sockaddr.js';

/** Longest single poll() on a worker thread; bounds how late a deferred close() happens. */
export const POLL_SLICE_MS = 50;

export class Socket {
  private inflight = 0;
  private closing = false;
  private fdClosed = false;

  /** `what` names the socket in errors ("AF_PACKET socket on veth0"). */
  constructor(
    readonly fd: number,
    readonly what: string,
  ) {}

  get closed(): boolean {
    return this.closing;
  }

  /** Throws unless the socket is open; `call` names the attempted call. */
  ensureOpen(call: string): void {
    if (this.closing) throw new NicmatrixError('SYSCALL', `${call} on ${this.what}: the socket is already closed`);
  }

  setInt(level: number, name: number, value: number, optName: string): void {
    const v = Buffer.alloc(4);
    v.writeInt32LE(value);
    this.setBytes(level, name, v, optName);
  }

  setBytes(level: number, name: number, value: Buffer, optName: string): void {
    this.ensureOpen(`setsockopt(${optName})`);
    check(libc().setsockopt(this.fd, level, name, value, value.length), `setsockopt(${optName})`, this.what);
  }

  getInt(level: number, name: number, optName: string): number {
    return this.getBytes(level, name, 4, optName).readInt32LE(0);
  }

  /** getsockopt into a `size`-byte buffer; returns the bytes the kernel wrote. */
  getBytes(level: number, name: number, size: number, optName: string): Buffer {
    this.ensureOpen(`getsockopt(${optName})`);
    const val = Buffer.alloc(size);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(size);
    check(libc().getsockopt(this.fd, level, name, val, len), `getsockopt(${optName})`, this.what);
    return val.subarray(0, len.readUInt32LE(0));
  }

  /** bind(2); `desc` says what was asked for ("ifindex 7", "10.0.0.1:5000"). */
  bind(sockaddr: Buffer, desc: string): void {
    this.ensureOpen(`bind(${desc})`);
    check(libc().bind(this.fd, sockaddr, sockaddr.length), `bind(${desc})`, this.what);
  }

  /** The local address (getsockname) of an IP socket. */
  localAddress(): InetAddr {
    this.ensureOpen('getsockname()');
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(sa.length);
    check(libc().getsockname(this.fd, sa, len), 'getsockname()', this.what);
    return decodeSockaddrIn(sa.subarray(0, len.readUInt32LE(0)));
  }

  /**
   * Waits until one of `events` (POLLIN, POLLOUT; POLLERR/POLLHUP always) is
   * ready or `timeoutMs` passed; resolves to revents, 0 on timeout or close.
   */
  async wait(events: number, timeoutMs: number): Promise<number> {
    // One revents per entry polled.
    return (await pollSockets([{ sock: this, events }], timeoutMs))[0]!;
  }

  /** Closes now, or as soon as a pending wait returns (at most POLL_SLICE_MS later). */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.inflight === 0) this.closeFd();
  }

  private closeFd(): void {
    // Exactly once: a second close() could hit an fd number reused by someone else.
    if (this.fdClosed) return;
    this.fdClosed = true;
    libc().close(this.fd);
  }

  /** @internal pollSockets bookkeeping. */
  enter(): void {
    this.inflight++;
  }

  /** @internal */
  leave(): void {
    if (--this.inflight === 0 && this.closing) this.closeFd();
  }
}

/** socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC; `call` is the text errors show. */
export function openSocket(domain: number, type: number, protocol: number, call: string, what: string): Socket {
  const fd = check(libc().socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol), call, what);
  return new Socket(fd, what);
}

/**
 * poll(2) over several sockets without blocking the event loop: one worker
 * poll per slice. Resolves to each socket's revents (0 if not ready); all
 * zero on timeout. A socket closed meanwhile reports 0.
 */
export async function pollSockets(entries: readonly { sock: Socket; events: number }[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + Math.max(0, timeoutMs);
  const fds = new NativeBuffer(8 * Math.max(1, entries.length));
  for (const e of entries) e.sock.enter();
  try {
    for (;;) {
      const open = entries.filter((e) => !e.sock.closed);
      if (open.length === 0) return entries.map(() => 0);
      entries.forEach((e, i) => {
        fds.bytes.writeInt32LE(e.sock.closed ? -1 : e.sock.fd, 8 * i);
        fds.bytes.writeInt16LE(e.events, 8 * i + 4);
        fds.bytes.writeInt16LE(0, 8 * i + 6);
      });
      const slice = Math.min(POLL_SLICE_MS, Math.max(0, deadline - Date.now()));
      const { ret, errno } = await callAsync(libc().poll, fds.addr, entries.length, slice);
      if (ret < 0 && errno !== EINTR) throw syscallError('poll()', errno, entries.map((e) => e.sock.what).join(', '));
      if (ret > 0) return entries.map((e, i) => (e.sock.closed ? 0 : fds.bytes.readUInt16LE(8 * i + 6)));
      if (Date.now() >= deadline) return entries.map(() => 0);
    }
  } finally {
    for (const e of entries) e.sock.leave();
    fds.free();
  }
}

export { sleep };

/** Waits `ms`, or less when `signal` aborts first (an aborted wait ends quietly: the caller decides what it means). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return sleep(ms);
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
