/** A kernel SCTP listener (one-to-one style, SOCK_STREAM, IPPROTO_SCTP = 132) on a libc socket. */
import type { IpFamily } from '../codec/addr.js';
import { NicmatrixError } from '../codec/errors.js';
import * as C from './consts.js';
import { check } from './errno.js';
import { inetSockaddr } from './inet.js';
import { libc } from './libc.js';
import { addressFamily, addressFamilyName } from './sockaddr.js';
import { openSocket, type Socket } from './socket.js';

export const IPPROTO_SCTP = 132;
/** socket() errnos of a kernel without SCTP: EPROTONOSUPPORT, ESOCKTNOSUPPORT. */
const NO_SCTP = new Set([93, 94]);

/** True when the error says this kernel has no SCTP. */
export function isNoSctp(e: unknown): boolean {
  return e instanceof NicmatrixError && NO_SCTP.has(Number((e.details as { errno?: number } | undefined)?.errno));
}

/** Listens on `addr`:`port`; the kernel answers INITs with INIT ACKs on its own, nothing needs accepting for that. */
export function sctpListen(family: IpFamily, addr: string, port: number, backlog = 64): Socket {
  const what = `SCTP/IPv${family} listener`;
  const sock = openSocket(
    addressFamily(family),
    C.SOCK_STREAM,
    IPPROTO_SCTP,
    `socket(${addressFamilyName(family)}, SOCK_STREAM, IPPROTO_SCTP)`,
    what,
  );
  try {
    sock.setInt(C.SOL_SOCKET, C.SO_REUSEADDR, 1, 'SO_REUSEADDR');
    sock.bind(inetSockaddr(family, addr, port), `${addr} port ${port}`);
    check(libc().listen(sock.fd, backlog), 'listen()', what);
    return sock;
  } catch (e) {
    sock.close();
    throw e;
  }
}
