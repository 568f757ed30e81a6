/**
 * struct sockaddr_ll / sockaddr_in / sockaddr_in6 encoding for x86_64 Linux
 * (little-endian host fields, network-order port and protocol). Pure.
 */
import { bytesToIpv4, bytesToIpv6, bytesToMac, ipv4ToBytes, ipv6ToBytes, macToBytes, type IpFamily } from '../codec/addr.js';
import { NicmatrixError } from '../codec/errors.js';
import { AF_INET, AF_INET6, AF_PACKET } from './consts.js';

export const SOCKADDR_LL_SIZE = 20;
export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;
/** Room for any address the kernel may write back (sockaddr_storage). */
export const SOCKADDR_STORAGE_SIZE = 128;

/** struct sockaddr_ll fields; `protocol` is the ethertype in host order. */
export interface SockaddrLl {
  protocol: number;
  ifindex: number;
  hatype?: number;
  pkttype?: number;
  /** Link-layer address ("02:00:00:00:00:01"), for sends to a given destination. */
  addr?: string;
}

/** An IP endpoint; `scopeId` is the interface index of a link-local IPv6 address. */
export interface InetAddr {
  family: IpFamily;
  addr: string;
  port: number;
  scopeId?: number;
}

export function encodeSockaddrLl(sa: SockaddrLl): Buffer {
  const b = Buffer.alloc(SOCKADDR_LL_SIZE);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16BE(sa.protocol, 2);
  b.writeInt32LE(sa.ifindex, 4);
  b.writeUInt16LE(sa.hatype ?? 0, 8);
  b.writeUInt8(sa.pkttype ?? 0, 10);
  if (sa.addr !== undefined) {
    const mac = macToBytes(sa.addr);
    b.writeUInt8(mac.length, 11);
    mac.copy(b, 12);
  }
  return b;
}

export function decodeSockaddrLl(b: Buffer): Required<SockaddrLl> {
  if (b.length < SOCKADDR_LL_SIZE || b.readUInt16LE(0) !== AF_PACKET) {
    throw new NicmatrixError(
      'CODEC',
      `sockaddr_ll: expected ${SOCKADDR_LL_SIZE} bytes of family AF_PACKET, found ${b.length} bytes of family ${b.length >= 2 ? b.readUInt16LE(0) : '?'}`,
    );
  }
  const halen = b.readUInt8(11);
  return {
    protocol: b.readUInt16BE(2),
    ifindex: b.readInt32LE(4),
    hatype: b.readUInt16LE(8),
    pkttype: b.readUInt8(10),
    addr: halen === 6 ? bytesToMac(b, 12) : '',
  };
}

export function encodeSockaddrIn(sa: InetAddr): Buffer {
  if (sa.family === 4) {
    const b = Buffer.alloc(SOCKADDR_IN_SIZE);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(sa.port, 2);
    ipv4ToBytes(sa.addr).copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(SOCKADDR_IN6_SIZE);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(sa.port, 2);
  ipv6ToBytes(sa.addr).copy(b, 8);
  b.writeUInt32LE(sa.scopeId ?? 0, 24);
  return b;
}

/** Decodes a sockaddr_in or sockaddr_in6 the kernel wrote (getsockname, accept). */
export function decodeSockaddrIn(b: Buffer): InetAddr {
  const family = b.length >= 2 ? b.readUInt16LE(0) : -1;
  if (family === AF_INET && b.length >= SOCKADDR_IN_SIZE) return { family: 4, addr: bytesToIpv4(b, 4), port: b.readUInt16BE(2) };
  if (family === AF_INET6 && b.length >= SOCKADDR_IN6_SIZE) {
    const scopeId = b.readUInt32LE(24);
    return { family: 6, addr: bytesToIpv6(b, 8), port: b.readUInt16BE(2), ...(scopeId ? { scopeId } : {}) };
  }
  throw new NicmatrixError(
    'CODEC',
    `sockaddr: expected AF_INET (16 bytes) or AF_INET6 (28 bytes), found family ${family} in ${b.length} bytes`,
  );
}

/** AF_INET or AF_INET6 for an IP family, and its name for error messages. */
export function addressFamily(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

export function addressFamilyName(family: IpFamily): string {
  return family === 4 ? 'AF_INET' : 'AF_INET6';
}

/** Splits "fe80::1%eth0" into the address and the zone name. */
export function splitZone(text: string): { addr: string; zone?: string } {
  const i = text.indexOf('%');
  return i < 0 ? { addr: text } : { addr: text.slice(0, i), zone: text.slice(i + 1) };
}
