/**
 * Agent actions zc.sendfile and zc.zerocopySend: the DUT sends a zc file with
 * sendfile(2), or a pattern buffer with send(MSG_ZEROCOPY) over TCP or UDP
 * and reads every completion from the error queue. A stalled or reset
 * connection is reported as `failure` (the device's doing); harness trouble throws.
 */
import fs from 'node:fs';
import type { Completion } from '../../codec/zc/completions.js';
import { fillFile } from '../../codec/zc/pattern.js';
import { describeError } from '../../codec/errors.js';
import { syscallErrno } from '../../sys/errno.js';
import * as C from '../../sys/consts.js';
import { UdpSocket } from '../../sys/inet.js';
import { NativeBuffer } from '../../sys/memory.js';
import { sendfileAll } from '../../sys/sendfile.js';
import { TcpConnection, type TcpStats } from '../../sys/tcp.js';
import { connectDatagram } from '../../sys/udp-connect.js';
import { ZerocopySender } from '../../sys/zerocopy.js';
import { defineAction } from '../registry.js';
import { zcFile } from './zc-file.js';

interface Conn {
  family: 4 | 6;
  src?: string;
  dst: string;
  dport: number;
  /** How long a send may find no room before the connection counts as stalled (default STALL_MS). */
  stallMs?: number;
}

declare module '../protocol.js' {
  interface ActionMap {
    /** sendfile() of `count` bytes from `offset` of a zc file, `repeat` times over one connection. */
    'zc.sendfile': {
      params: Conn & { fileId: string; offset: number; count: number; repeat?: number };
      result: { sent: number; calls: number; elapsedNs: number; tcp?: TcpStats; failure?: string };
    };
    /** send(MSG_ZEROCOPY) of `size` pattern bytes in calls of `lengths` (datagrams for UDP). */
    'zc.zerocopySend': {
      /** `nodelay` (TCP, default true): false lets Nagle hold a short tail back, so full segments stay full. */
      params: Conn & { proto: 'tcp' | 'udp'; seed: number; size: number; lengths: number[]; completionWaitMs?: number; nodelay?: boolean };
      /** `tcp`: the connection's TCP_INFO read as it closed; `mss`: its MSS once connected. */
      result: {
        calls: number;
        bytes: number;
        completions: Completion[];
        tcp?: TcpStats;
        mss?: number;
        unsupported?: string;
        failure?: string;
      };
    };
  }
}

/** No progress for this long is a stall (generous: a TCG guest on a loaded host is slow, not stalled). */
export const STALL_MS = 30_000;
/** Longest wait for the last MSG_ZEROCOPY completions once everything was sent. */
export const COMPLETION_WAIT_MS = 30_000;

/** Errors that mean the connection or the device failed, not the harness. */
const DEVICE_ERRNOS = new Set(['EAGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** The failure text of a device-side error; anything else is thrown again. */
export function deviceFailure(e: unknown): string {
  if (DEVICE_ERRNOS.has(syscallErrno(e) ?? '')) return describeError(e);
  throw e;
}

/** How long closing may wait for the peer to read everything and answer with its FIN. */
const CLOSE_WAIT_MS = 60_000;

defineAction('zc.sendfile', async ({ fileId, family, src, dst, dport, offset, count, repeat, stallMs }, ctx) => {
  const file = zcFile(ctx.resources, fileId, 'zc.sendfile');
  const fd = fs.openSync(file.path, 'r');
  const conn = TcpConnection.open(family, { src });
  let sent = 0;
  let calls = 0;
  let tcp: TcpStats | undefined;
  const t0 = process.hrtime.bigint();
  try {
    await conn.connect(dst, dport);
    for (let r = 0; r < (repeat ?? 1); r++) {
      const res = await sendfileAll(conn.sock, fd, offset, count, { stallMs: stallMs ?? STALL_MS });
      sent += res.sent;
      calls += res.calls;
      if (res.sent < count) break;
    }
    await conn.closeAcked(CLOSE_WAIT_MS, (s) => (tcp = s));
    return { sent, calls, elapsedNs: Number(process.hrtime.bigint() - t0), ...(tcp ? { tcp } : {}) };
  } catch (e) {
    tcp ??= conn.stats();
    return { sent, calls, elapsedNs: Number(process.hrtime.bigint() - t0), ...(tcp ? { tcp } : {}), failure: deviceFailure(e) };
  } finally {
    conn.close();
    fs.closeSync(fd);
  }
});

/** Sends each length in turn; for UDP each is one datagram, paced so no more than PACE wait for completion. */
const PACE = 64;

defineAction('zc.zerocopySend', async (p) => {
  const mem = new NativeBuffer(Math.max(1, p.size));
  fillFile(mem.bytes.subarray(0, p.size), { seed: p.seed, size: p.size }, 0);
  const tcp = p.proto === 'tcp' ? TcpConnection.open(p.family, { src: p.src, nodelay: p.nodelay }) : undefined;
  const udp = p.proto === 'udp' ? UdpSocket.open(p.family, { src: p.src }) : undefined;
  const sock = (tcp?.sock ?? udp?.sock)!;
  let zc: ZerocopySender | undefined;
  let bytes = 0;
  let stats: TcpStats | undefined;
  let mss: number | undefined;
  const report = (extra: { unsupported?: string; failure?: string } = {}) => ({
    calls: zc?.calls ?? 0,
    bytes,
    completions: zc ? [...zc.completions] : [],
    ...(stats ? { tcp: stats } : {}),
    ...(mss !== undefined ? { mss } : {}),
    ...extra,
  });
  try {
    if (tcp) {
      await tcp.connect(p.dst, p.dport);
      mss = tcp.sock.getInt(C.IPPROTO_TCP, C.TCP_MAXSEG, 'TCP_MAXSEG');
    } else connectDatagram(sock, p.family, p.dst, p.dport);
    try {
      zc = new ZerocopySender(sock);
    } catch (e) {
      const errno = syscallErrno(e);
      if (errno === 'EOPNOTSUPP' || errno === 'ENOPROTOOPT') return report({ unsupported: describeError(e) });
      throw e;
    }
    try {
      for (const len of p.lengths) {
        bytes += await zc.sendAll(mem, bytes, len, p.stallMs ?? STALL_MS);
        if (udp && zc.pending >= PACE) await zc.waitAll(p.completionWaitMs ?? COMPLETION_WAIT_MS);
      }
      await zc.waitAll(p.completionWaitMs ?? COMPLETION_WAIT_MS);
      if (tcp) await tcp.closeAcked(CLOSE_WAIT_MS, (s) => (stats = s));
    } catch (e) {
      zc.readCompletions();
      stats ??= tcp?.stats();
      return report({ failure: deviceFailure(e) });
    }
    return report();
  } finally {
    zc?.dispose();
    tcp?.close();
    udp?.close();
    // Pages still pinned by an uncompleted send stay the kernel's; freeing our mapping cannot corrupt them.
    mem.free();
  }
});
