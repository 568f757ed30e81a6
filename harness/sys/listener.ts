/** A TCP listener on a libc socket: non-blocking accept() of TcpConnections. */
import type { IpFamily } from '../codec/addr.js';
import * as C from './consts.js';
import { check, EAGAIN, syscallError } from './errno.js';
import { inetSockaddr } from './inet.js';
import { lastErrno, libc } from './libc.js';
import { addressFamily, addressFamilyName, type InetAddr, SOCKADDR_STORAGE_SIZE } from './sockaddr.js';
import { openSocket, Socket } from './socket.js';
import { TcpConnection } from './tcp.js';

export class TcpListener {
  private constructor(
    readonly sock: Socket,
    readonly family: IpFamily,
    private readonly where: string,
  ) {}

  /** Listens on `addr`:`port` (port 0: ephemeral, see local()). */
  static open(family: IpFamily, addr: string, port: number, backlog = 64): TcpListener {
    const what = `TCP/IPv${family} listener`;
    const sock = openSocket(addressFamily(family), C.SOCK_STREAM, C.IPPROTO_TCP, `socket(${addressFamilyName(family)}, SOCK_STREAM)`, what);
    try {
      sock.setInt(C.SOL_SOCKET, C.SO_REUSEADDR, 1, 'SO_REUSEADDR');
      sock.bind(inetSockaddr(family, addr, port), `${addr} port ${port}`);
      check(libc().listen(sock.fd, backlog), 'listen()', what);
      return new TcpListener(sock, family, `${addr} port ${port}`);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** A pending connection, or null when none is waiting (never blocks). */
  accept(): TcpConnection | null {
    this.sock.ensureOpen('accept4()');
    const sa = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(sa.length);
    const fd = libc().accept4(this.sock.fd, sa, len, C.SOCK_NONBLOCK | C.SOCK_CLOEXEC);
    if (fd < 0) {
      const errno = lastErrno();
      if (errno === EAGAIN) return null;
      throw syscallError('accept4()', errno, this.sock.what);
    }
    return new TcpConnection(new Socket(fd, `TCP/IPv${this.family} connection accepted on ${this.where}`), this.family);
  }

  local(): InetAddr {
    return this.sock.localAddress();
  }

  close(): void {
    this.sock.close();
  }
}
