/**
 * recvmsg/sendmsg with every pointer in native memory (msghdr → iovec → data,
 * name, control), so nothing the kernel reads or writes can move under it.
 */
import { type Cmsg, parseCmsgs } from './cmsg.js';
import { check, EAGAIN, syscallError } from './errno.js';
import { lastErrno, libc } from './libc.js';
import { NativeBuffer } from './memory.js';
import type { Socket } from './socket.js';
import { SOCKADDR_STORAGE_SIZE } from './sockaddr.js';
import { decodeMsghdrResult, encodeIovec, encodeMsghdr, IOVEC_SIZE, MSGHDR_SIZE } from './structs.js';

/** What one recvmsg returned. */
export interface RecvResult {
  /** recvmsg's return: bytes received, or the full length with MSG_TRUNC. */
  n: number;
  /** msg_flags (MSG_TRUNC, MSG_CTRUNC, MSG_ERRQUEUE...). */
  flags: number;
  /** A copy of the received bytes (at most the buffer's capacity). */
  data: Buffer;
  cmsgs: Cmsg[];
  /** The source address the kernel wrote (sockaddr_ll, sockaddr_in...). */
  name: Buffer;
}

const NAME_OFF = 64;
const IOV_OFF = NAME_OFF + SOCKADDR_STORAGE_SIZE;
const CONTROL_OFF = IOV_OFF + IOVEC_SIZE;

/** Reusable native buffers for one socket's receives. */
export class RecvBuffers {
  private mem: NativeBuffer;
  private dataOff: number;

  constructor(
    readonly dataCap: number,
    readonly controlCap: number,
  ) {
    this.dataOff = CONTROL_OFF + ((controlCap + 7) & ~7);
    this.mem = new NativeBuffer(this.dataOff + dataCap);
  }

  /** One recvmsg(flags); null when nothing is queued (EAGAIN). `call` names it in errors. */
  recv(sock: Socket, flags: number, call = 'recvmsg()'): RecvResult | null {
    sock.ensureOpen(call);
    const b = this.mem.bytes;
    encodeIovec(b, IOV_OFF, this.mem.at(this.dataOff), this.dataCap);
    encodeMsghdr(b, 0, {
      name: this.mem.at(NAME_OFF),
      nameLen: SOCKADDR_STORAGE_SIZE,
      iov: this.mem.at(IOV_OFF),
      iovLen: 1,
      control: this.controlCap > 0 ? this.mem.at(CONTROL_OFF) : 0n,
      controlLen: this.controlCap,
      flags: 0,
    });
    const n = libc().recvmsg(sock.fd, this.mem.addr, flags);
    if (n < 0) {
      const errno = lastErrno();
      if (errno === EAGAIN) return null;
      throw syscallError(call, errno, sock.what);
    }
    const r = decodeMsghdrResult(b, 0);
    return {
      n,
      flags: r.flags,
      data: Buffer.from(b.subarray(this.dataOff, this.dataOff + Math.min(n, this.dataCap))),
      cmsgs: parseCmsgs(b.subarray(CONTROL_OFF, CONTROL_OFF + Math.min(r.controlLen, this.controlCap))),
      name: Buffer.from(b.subarray(NAME_OFF, NAME_OFF + Math.min(r.nameLen, SOCKADDR_STORAGE_SIZE))),
    };
  }

  free(): void {
    this.mem.free();
  }
}

/**
 * sendmsg(2) of `parts` as one message (one iovec each), with an optional
 * destination and control data. Returns bytes sent, or null on EAGAIN.
 */
export function sendMsg(
  sock: Socket,
  parts: readonly Buffer[],
  opts: { name?: Buffer; control?: Buffer; flags?: number; call?: string } = {},
): number | null {
  const call = opts.call ?? 'sendmsg()';
  sock.ensureOpen(call);
  const nameLen = opts.name?.length ?? 0;
  const ctlLen = opts.control?.length ?? 0;
  const iovOff = MSGHDR_SIZE;
  const nameOff = iovOff + IOVEC_SIZE * parts.length;
  const ctlOff = (nameOff + nameLen + 7) & ~7;
  let dataOff = ctlOff + ctlLen;
  const mem = new NativeBuffer(dataOff + parts.reduce((n, p) => n + p.length, 0) || 1);
  try {
    const b = mem.bytes;
    parts.forEach((p, i) => {
      encodeIovec(b, iovOff + IOVEC_SIZE * i, mem.at(dataOff), p.length);
      p.copy(b, dataOff);
      dataOff += p.length;
    });
    opts.name?.copy(b, nameOff);
    opts.control?.copy(b, ctlOff);
    encodeMsghdr(b, 0, {
      name: nameLen ? mem.at(nameOff) : 0n,
      nameLen,
      iov: mem.at(iovOff),
      iovLen: parts.length,
      control: ctlLen ? mem.at(ctlOff) : 0n,
      controlLen: ctlLen,
      flags: 0,
    });
    const n = libc().sendmsg(sock.fd, mem.addr, opts.flags ?? 0);
    if (n < 0 && lastErrno() === EAGAIN) return null;
    return check(n, call, sock.what);
  } finally {
    mem.free();
  }
}
