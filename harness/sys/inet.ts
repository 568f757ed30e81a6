/**
 * IP sockets through libc: UDP (with the per-socket knobs Node's dgram lacks:
 * SO_NO_CHECK, IP_OPTIONS, IPV6_DSTOPTS/HOPOPTS, SO_BINDTODEVICE) and raw
 * IPPROTO_RAW sockets that send a complete IPv4/IPv6 packet as given.
 */
import { NicmatrixError } from '../codec/errors.js';
import type { IpFamily } from '../codec/addr.js';
import * as C from './consts.js';
import { EAGAIN, syscallError } from './errno.js';
import { RecvBuffers, sendMsg } from './msghdr.js';
import { ifIndex } from './packet.js';
import { addressFamily, addressFamilyName, decodeSockaddrIn, encodeSockaddrIn, type InetAddr, splitZone } from './sockaddr.js';
import { openSocket, type Socket } from './socket.js';

/** Address text (IPv6 may carry "%ifname") and port to a sockaddr. */
export function inetSockaddr(family: IpFamily, text: string, port: number): Buffer {
  const { addr, zone } = splitZone(text);
  return encodeSockaddrIn({ family, addr, port, scopeId: zone ? ifIndex(zone) : undefined });
}

/** Sends until the kernel takes the message, waiting for room (POLLOUT) up to `timeoutMs`. */
async function sendWithRoom(
  sock: Socket,
  parts: Buffer[],
  name: Buffer,
  control: Buffer | undefined,
  call: string,
  timeoutMs = 1000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = sendMsg(sock, parts, { name, control, call });
    if (n !== null) return n;
    if (Date.now() >= deadline) throw syscallError(call, EAGAIN, `${sock.what} (no room for ${timeoutMs} ms)`);
    await sock.wait(C.POLLOUT, deadline - Date.now());
  }
}

export interface UdpSocketOptions {
  /** Local address to bind (IPv6 may carry "%ifname"); any address when absent. */
  src?: string;
  /** Local port; ephemeral when 0 or absent (a bind happens only if src or sport is given). */
  sport?: number;
  /** SO_BINDTODEVICE: the datagrams leave by this interface. */
  device?: string;
  /** IPv4: SO_NO_CHECK, datagrams go out with UDP checksum 0. */
  noChecksum?: boolean;
  /** IPv4 options bytes (IP_OPTIONS), padded by the kernel to 4-byte words. */
  ipOptions?: Buffer;
  /** A whole IPv6 destination-options header (IPV6_DSTOPTS); the kernel sets its next-header byte. */
  ipv6DstOpts?: Buffer;
  /** A whole IPv6 hop-by-hop header (IPV6_HOPOPTS). */
  ipv6HopOpts?: Buffer;
}

export class UdpSocket {
  private bufs: RecvBuffers | undefined;

  private constructor(
    readonly sock: Socket,
    readonly family: IpFamily,
  ) {}

  static open(family: IpFamily, opts: UdpSocketOptions = {}): UdpSocket {
    const what = `UDP/IPv${family} socket`;
    const sock = openSocket(addressFamily(family), C.SOCK_DGRAM, C.IPPROTO_UDP, `socket(${addressFamilyName(family)}, SOCK_DGRAM)`, what);
    try {
      if (opts.device) sock.setBytes(C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(opts.device + '\0'), `SO_BINDTODEVICE ${opts.device}`);
      if (opts.noChecksum) {
        if (family !== 4) throw new NicmatrixError('USAGE', 'UDP noChecksum: expected family 4 (SO_NO_CHECK is IPv4 only), found family 6');
        sock.setInt(C.SOL_SOCKET, C.SO_NO_CHECK, 1, 'SO_NO_CHECK');
      }
      if (opts.ipOptions) {
        if (family !== 4) throw new NicmatrixError('USAGE', 'UDP ipOptions: expected family 4, found family 6');
        sock.setBytes(C.SOL_IP, C.IP_OPTIONS, opts.ipOptions, 'IP_OPTIONS');
      }
      if ((opts.ipv6DstOpts || opts.ipv6HopOpts) && family !== 6)
        throw new NicmatrixError('USAGE', 'UDP IPv6 extension headers: expected family 6, found family 4');
      if (opts.ipv6DstOpts) sock.setBytes(C.SOL_IPV6, C.IPV6_DSTOPTS, opts.ipv6DstOpts, 'IPV6_DSTOPTS');
      if (opts.ipv6HopOpts) sock.setBytes(C.SOL_IPV6, C.IPV6_HOPOPTS, opts.ipv6HopOpts, 'IPV6_HOPOPTS');
      if (opts.src !== undefined || opts.sport) {
        const src = opts.src ?? (family === 4 ? '0.0.0.0' : '::');
        sock.bind(inetSockaddr(family, src, opts.sport ?? 0), `${src} port ${opts.sport ?? 0}`);
      }
      return new UdpSocket(sock, family);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** Sends one datagram to `dst`:`port`; `control` is extra cmsg data (see buildCmsgs). */
  sendTo(dst: string, port: number, payload: Buffer, control?: Buffer): Promise<number> {
    return sendWithRoom(this.sock, [payload], inetSockaddr(this.family, dst, port), control, `sendmsg(to ${dst} port ${port})`);
  }

  /** Next queued datagram and its source, or null (never blocks). */
  recv(maxLen = 65536): { data: Buffer; from: InetAddr } | null {
    this.bufs ??= new RecvBuffers(maxLen, 0);
    const r = this.bufs.recv(this.sock, C.MSG_DONTWAIT);
    return r ? { data: r.data, from: decodeSockaddrIn(r.name) } : null;
  }

  local(): InetAddr {
    return this.sock.localAddress();
  }

  close(): void {
    this.sock.close();
    this.bufs?.free();
    this.bufs = undefined;
  }
}

/** A raw IPPROTO_RAW socket: each send is one complete IP packet, header included (IP_HDRINCL / IPV6_HDRINCL). */
export class RawIpSocket {
  private constructor(
    readonly sock: Socket,
    readonly family: IpFamily,
  ) {}

  static open(family: IpFamily, opts: { device?: string } = {}): RawIpSocket {
    const what = `raw IPv${family} socket`;
    const sock = openSocket(
      addressFamily(family),
      C.SOCK_RAW,
      C.IPPROTO_RAW,
      `socket(${addressFamilyName(family)}, SOCK_RAW, IPPROTO_RAW)`,
      what,
    );
    try {
      // IPv4 IPPROTO_RAW implies IP_HDRINCL; IPv6 needs IPV6_HDRINCL (Linux 4.5+).
      if (family === 6) sock.setInt(C.SOL_IPV6, C.IPV6_HDRINCL, 1, 'IPV6_HDRINCL');
      if (opts.device) sock.setBytes(C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(opts.device + '\0'), `SO_BINDTODEVICE ${opts.device}`);
      return new RawIpSocket(sock, family);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** Sends `packet` (IP header first) routed towards `dst`, which should match its destination field. */
  send(packet: Buffer, dst: string): Promise<number> {
    return sendWithRoom(this.sock, [packet], inetSockaddr(this.family, dst, 0), undefined, `sendmsg(raw to ${dst})`);
  }

  close(): void {
    this.sock.close();
  }
}
