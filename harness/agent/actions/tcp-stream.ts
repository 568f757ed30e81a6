/**
 * Agent action tcp.stream: one TCP connection that writes large seeded writes
 * (the peer rebuilds the same bytes from the seed), with TCP_MAXSEG and
 * TCP_NODELAY as asked; each write is acknowledged before the next, so each
 * write's tail is its own push. Reports what TCP_INFO says of the connection.
 */
import { createRng } from '../../codec/random.js';
import * as C from '../../sys/consts.js';
import { EAGAIN, syscallError } from '../../sys/errno.js';
import { lastErrno, libc } from '../../sys/libc.js';
import { decodeTcpInfo, TcpConnection } from '../../sys/tcp.js';
import { defineAction } from '../registry.js';

/** include/uapi/linux/tcp.h */
const TCP_MAXSEG = 2;
const TCP_INFO = 11;
const TCPI_OPT_TIMESTAMPS = 1;
const TCPI_OPT_ECN = 8;
/** Bytes of struct tcp_info read (up to tcpi_total_retrans and past it). */
/** Bytes asked of getsockopt(TCP_INFO): through tcpi_dsack_dups; an older kernel writes less and says so. */
const TCP_INFO_LEN = 232;

/** What TCP_INFO says about a connection. */
export interface TcpInfoFacts {
  /** tcpi_snd_mss: data bytes per full segment (options already taken off). */
  sndMss: number;
  pmtu: number;
  /** tcpi_total_retrans: segments retransmitted over the connection's life. */
  totalRetrans: number;
  /** tcpi_dsack_dups (5.1+): of them, segments the receiver reported as duplicates. */
  dsackDups?: number;
  /** tcpi_data_segs_out (4.6+): segments with payload sent, retransmissions included. */
  dataSegsOut?: number;
  timestamps: boolean;
  ecn: boolean;
}

declare module '../protocol.js' {
  interface ActionMap {
    /**
     * Connects, writes `writes` bytes per write (seeded bytes, one stream), waits for each write to be
     * acknowledged (at most `ackTimeoutMs`), then closes with a FIN; a stalled write ends with a reset.
     */
    'tcp.stream': {
      params: {
        family: 4 | 6;
        src?: string;
        dst: string;
        sport: number;
        dport: number;
        seed: number;
        writes: number[];
        /** TCP_MAXSEG before connect; the route's MSS when absent. */
        mss?: number;
        nodelay: boolean;
        ackTimeoutMs: number;
      };
      result: {
        /** Write sizes used: a size that is a multiple of the MSS grows by one, so each write ends in a short push. */
        writes: number[];
        /** Bytes the kernel took. */
        bytes: number;
        /** The write that was not acknowledged in time, and the bytes left unacknowledged. */
        stalled?: { write: number; unacked: number };
        /** Stream offsets where a send() call took only part of a write: each ends a push of its own (PSH). */
        shortSends: number[];
        info: TcpInfoFacts;
      };
    };
  }
}

export function readTcpInfo(conn: TcpConnection): TcpInfoFacts {
  const b = conn.sock.getBytes(C.IPPROTO_TCP, TCP_INFO, TCP_INFO_LEN, 'TCP_INFO');
  const { sndMss, totalRetrans, dsackDups, dataSegsOut } = decodeTcpInfo(b);
  return {
    sndMss,
    pmtu: b.readUInt32LE(60),
    totalRetrans,
    ...(dsackDups !== undefined ? { dsackDups } : {}),
    ...(dataSegsOut !== undefined ? { dataSegsOut } : {}),
    timestamps: (b.readUInt8(5) & TCPI_OPT_TIMESTAMPS) !== 0,
    ecn: (b.readUInt8(5) & TCPI_OPT_ECN) !== 0,
  };
}

/** Most short sends reported; past that the judge is told there were more. */
const MAX_SHORT_SENDS = 4096;

/**
 * Writes all of `data`, one send() per chance, noting (as stream offsets from `base`) where a send() took
 * only part: the kernel pushes at the end of every send() call. False when the socket had no room for `timeoutMs`.
 */
async function writeAll(conn: TcpConnection, data: Buffer, base: number, short: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let off = 0;
  while (off < data.length) {
    conn.sock.ensureOpen('send()');
    const n = libc().send(conn.sock.fd, data.subarray(off), data.length - off, C.MSG_DONTWAIT | C.MSG_NOSIGNAL);
    if (n >= 0) {
      off += n;
      if (off < data.length && short.length < MAX_SHORT_SENDS) short.push(base + off);
      continue;
    }
    const errno = lastErrno();
    if (errno !== EAGAIN) throw syscallError('send()', errno, conn.sock.what);
    if (Date.now() >= deadline) return false;
    await conn.sock.wait(C.POLLOUT, deadline - Date.now());
  }
  return true;
}

/** The bytes of a seeded stream: the controller rebuilds them with the same call. */
export function streamBytes(seed: number, length: number): Buffer {
  return createRng(seed).bytes(length);
}

defineAction('tcp.stream', async (p) => {
  const conn = TcpConnection.open(p.family, { src: p.src, sport: p.sport, nodelay: p.nodelay });
  try {
    if (p.mss !== undefined) conn.sock.setInt(C.IPPROTO_TCP, TCP_MAXSEG, p.mss, 'TCP_MAXSEG');
    await conn.connect(p.dst, p.dport);
    const mss = readTcpInfo(conn).sndMss;
    const writes = p.writes.map((n) => (mss > 0 && n % mss === 0 ? n + 1 : n));
    const data = streamBytes(
      p.seed,
      writes.reduce((a, b) => a + b, 0),
    );
    let off = 0;
    const shortSends: number[] = [];
    let stalled: { write: number; unacked: number } | undefined;
    for (const [i, w] of writes.entries()) {
      if (stalled) break;
      // No room in the send buffer for that long: the peer stopped acknowledging.
      const whole = await writeAll(conn, data.subarray(off, off + w), off, shortSends, p.ackTimeoutMs);
      off += w;
      if (!whole || !(await conn.waitAcked(p.ackTimeoutMs))) stalled = { write: i, unacked: conn.unacked() };
    }
    const bytes = off;
    const info = readTcpInfo(conn);
    if (stalled) {
      // A reset, not a FIN the peer would wait behind the missing bytes for.
      const linger = Buffer.alloc(8);
      linger.writeInt32LE(1, 0);
      conn.sock.setBytes(C.SOL_SOCKET, C.SO_LINGER, linger, 'SO_LINGER');
      conn.close();
    } else {
      await conn.closeAcked(p.ackTimeoutMs);
    }
    return { writes, bytes, stalled, shortSends, info };
  } finally {
    conn.close();
  }
});
