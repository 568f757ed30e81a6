/**
 * A minimal TCP client on libc sockets (the listener is in listener.ts), so
 * the harness owns the fd (sendfile, MSG_ZEROCOPY, TCP_NODELAY, SIOCOUTQ)
 * where Node's net module hides it. Non-blocking; waits never block the event loop.
 */
import type { IpFamily } from '../codec/addr.js';
import * as C from './consts.js';
import { check, EAGAIN, EINPROGRESS, ETIMEDOUT, syscallError } from './errno.js';
import { inetSockaddr } from './inet.js';
import { lastErrno, libc } from './libc.js';
import { addressFamily, addressFamilyName, type InetAddr } from './sockaddr.js';
import { openSocket, Socket, sleep } from './socket.js';

export interface TcpConnectOptions {
  /** Local address to bind before connecting. */
  src?: string;
  /** Local port (0 or absent: ephemeral). */
  sport?: number;
  /** TCP_NODELAY; default true (each send goes out at once). */
  nodelay?: boolean;
  timeoutMs?: number;
}

/** What TCP_INFO says about a connection (struct tcp_info, linux/tcp.h), the fields the checks judge. */
/** How long a receiver waits, after the stream's end, for the sender's last copies to be counted (a veth backlog, a slow guest). */
export const LATE_COPY_WAIT_MS = 1000;

export interface TcpStats {
  /** tcpi_total_retrans: segments this connection retransmitted over its life. */
  totalRetrans: number;
  /** tcpi_snd_mss: the sender's current MSS. */
  sndMss: number;
  /** tcpi_bytes_acked (Linux 4.1+), when the kernel filled it. */
  bytesAcked?: number;
  /** tcpi_segs_out (Linux 4.2+), when the kernel filled it. */
  segsOut?: number;
  /** tcpi_dsack_dups (Linux 5.1+): segments the peer reported as duplicates (DSACK), when the kernel filled it. */
  dsackDups?: number;
  /** tcpi_data_segs_out (Linux 4.6+): segments with payload sent, retransmissions included. */
  dataSegsOut?: number;
  /** tcpi_data_segs_in (Linux 4.6+): segments with payload that reached this socket, duplicates included. */
  dataSegsIn?: number;
}

/** Bytes asked of getsockopt(TCP_INFO): more than every field read here. */
const TCP_INFO_SIZE = 232;

/** Decodes the fields of TcpStats from a struct tcp_info the kernel wrote (little-endian host); pure. */
export function decodeTcpInfo(b: Buffer): TcpStats {
  const u32 = (off: number) => (b.length >= off + 4 ? b.readUInt32LE(off) : undefined);
  const u64 = (off: number) => (b.length >= off + 8 ? Number(b.readBigUInt64LE(off)) : undefined);
  const out: TcpStats = { totalRetrans: u32(100) ?? 0, sndMss: u32(16) ?? 0 };
  const acked = u64(120);
  const segs = u32(136);
  const dsack = u32(216);
  const dataIn = u32(152);
  const dataOut = u32(156);
  if (acked !== undefined) out.bytesAcked = acked;
  if (segs !== undefined) out.segsOut = segs;
  if (dataIn !== undefined) out.dataSegsIn = dataIn;
  if (dataOut !== undefined) out.dataSegsOut = dataOut;
  if (dsack !== undefined) out.dsackDups = dsack;
  return out;
}

export class TcpConnection {
  private rbuf: Buffer | undefined;

  constructor(
    readonly sock: Socket,
    readonly family: IpFamily,
  ) {}

  /**
   * Creates the socket (and binds it when `src`/`sport` say so) without
   * connecting: synchronous, so it can run inside inNetns().
   */
  static open(family: IpFamily, opts: TcpConnectOptions = {}): TcpConnection {
    const what = `TCP/IPv${family} socket`;
    const sock = openSocket(addressFamily(family), C.SOCK_STREAM, C.IPPROTO_TCP, `socket(${addressFamilyName(family)}, SOCK_STREAM)`, what);
    try {
      if (opts.nodelay ?? true) sock.setInt(C.IPPROTO_TCP, C.TCP_NODELAY, 1, 'TCP_NODELAY');
      if (opts.src !== undefined || opts.sport) {
        const src = opts.src ?? (family === 4 ? '0.0.0.0' : '::');
        sock.setInt(C.SOL_SOCKET, C.SO_REUSEADDR, 1, 'SO_REUSEADDR');
        sock.bind(inetSockaddr(family, src, opts.sport ?? 0), `${src} port ${opts.sport ?? 0}`);
      }
      return new TcpConnection(sock, family);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** open() then connect(): the usual client. */
  static async connect(family: IpFamily, dst: string, port: number, opts: TcpConnectOptions = {}): Promise<TcpConnection> {
    const conn = TcpConnection.open(family, opts);
    try {
      await conn.connect(dst, port, opts.timeoutMs);
      return conn;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** Connects to `dst`:`port` (IPv6 may carry "%ifname"), waiting at most `timeoutMs`. */
  async connect(dst: string, port: number, timeoutMs = 5000): Promise<void> {
    const sock = this.sock;
    const sa = inetSockaddr(this.family, dst, port);
    const call = `connect(${dst} port ${port})`;
    sock.ensureOpen(call);
    if (libc().connect(sock.fd, sa, sa.length) < 0) {
      const errno = lastErrno();
      if (errno !== EINPROGRESS) throw syscallError(call, errno, sock.what);
      if ((await sock.wait(C.POLLOUT, timeoutMs)) === 0)
        throw syscallError(call, ETIMEDOUT, `${sock.what} (no answer within ${timeoutMs} ms)`);
      const soErr = sock.getInt(C.SOL_SOCKET, C.SO_ERROR, 'SO_ERROR');
      if (soErr !== 0) throw syscallError(call, soErr, sock.what);
    }
  }

  local(): InetAddr {
    return this.sock.localAddress();
  }

  /** Writes all of `data` (several send() calls if the kernel takes part of it), waiting for room. */
  async sendAll(data: Buffer, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let off = 0;
    while (off < data.length) {
      this.sock.ensureOpen('send()');
      const n = libc().send(this.sock.fd, data.subarray(off), data.length - off, C.MSG_DONTWAIT | C.MSG_NOSIGNAL);
      if (n >= 0) {
        off += n;
        continue;
      }
      const errno = lastErrno();
      if (errno !== EAGAIN) throw syscallError('send()', errno, this.sock.what);
      if (Date.now() >= deadline) throw syscallError('send()', errno, `${this.sock.what} (no room for ${timeoutMs} ms)`);
      await this.sock.wait(C.POLLOUT, deadline - Date.now());
    }
    return off;
  }

  /** Bytes received, an empty Buffer at end of stream, or null when nothing is queued. */
  recvSome(max = 262144): Buffer | null {
    this.sock.ensureOpen('recv()');
    if (!this.rbuf || this.rbuf.length < max) this.rbuf = Buffer.alloc(max);
    const n = libc().recv(this.sock.fd, this.rbuf, max, C.MSG_DONTWAIT);
    if (n >= 0) return Buffer.from(this.rbuf.subarray(0, n));
    const errno = lastErrno();
    if (errno === EAGAIN) return null;
    throw syscallError('recv()', errno, this.sock.what);
  }

  /** Bytes written but not yet acknowledged by the peer (SIOCOUTQ). */
  unacked(): number {
    const out = Buffer.alloc(4);
    check(libc().ioctlInt(this.sock.fd, C.SIOCOUTQ, out), 'ioctl(SIOCOUTQ)', this.sock.what);
    return out.readInt32LE(0);
  }

  /** Waits until the peer acknowledged everything written; false if that took over `timeoutMs`. */
  async waitAcked(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // 1 ms at first, doubling to 16: a slow emulated link drains for seconds, and a guest should not spin meanwhile.
    for (let pause = 1; this.unacked() > 0; pause = Math.min(16, pause * 2)) {
      if (Date.now() >= deadline) return false;
      await sleep(pause);
    }
    return true;
  }

  /**
   * Acknowledges what arrived now (TCP_QUICKACK): a FIN puts the socket in CLOSE_WAIT's delayed-ACK mode, and a sender
   * waiting for its FIN's acknowledgement would wait up to the delayed-ACK timer.
   */
  ackNow(): void {
    this.sock.setInt(C.IPPROTO_TCP, C.TCP_QUICKACK, 1, 'TCP_QUICKACK');
  }

  /** TCP_INFO of the connection; undefined once the socket is closed. */
  stats(): TcpStats | undefined {
    if (this.sock.closed) return undefined;
    return decodeTcpInfo(this.sock.getBytes(C.IPPROTO_TCP, C.TCP_INFO, TCP_INFO_SIZE, 'TCP_INFO'));
  }

  /** TCP_INFO, or undefined when the socket is closed or the kernel tore the connection down. */
  statsOrUndefined(): TcpStats | undefined {
    try {
      return this.stats();
    } catch {
      // A connection the kernel already tore down has no TCP_INFO to give: the caller records that none was read.
      return undefined;
    }
  }

  /**
   * Sends FIN and waits until the peer acknowledged it (SIOCOUTQ counts the FIN's sequence number), without waiting
   * for the peer's own FIN: a receiver that keeps its socket open after the end of the stream still counts the copies
   * in flight. TCP_INFO is read last, just before the socket closes (an orphan in FIN_WAIT2 then answers the peer's FIN).
   */
  async closeAcked(timeoutMs = 2000, onStats?: (s: TcpStats | undefined) => void): Promise<void> {
    try {
      check(libc().shutdown(this.sock.fd, C.SHUT_WR), 'shutdown(SHUT_WR)', this.sock.what);
      await this.waitAcked(timeoutMs);
    } finally {
      if (onStats) onStats(this.statsOrUndefined());
      this.close();
    }
  }

  close(): void {
    this.sock.close();
  }
}
