/** connect(2) for a datagram socket: fixes its peer, so send() (MSG_ZEROCOPY) needs no address. */
import type { IpFamily } from '../codec/addr.js';
import { check } from './errno.js';
import { inetSockaddr } from './inet.js';
import { libc } from './libc.js';
import type { Socket } from './socket.js';

export function connectDatagram(sock: Socket, family: IpFamily, dst: string, port: number): void {
  const sa = inetSockaddr(family, dst, port);
  const call = `connect(${dst} port ${port})`;
  sock.ensureOpen(call);
  check(libc().connect(sock.fd, sa, sa.length), call, sock.what);
}
