/**
 * Fixed kernel structs the socket layer reads and writes (x86_64 Linux,
 * little-endian): tpacket_auxdata, virtio_net_hdr, sock_extended_err,
 * tpacket_stats, timespec. Pure.
 */
import { NicmatrixError } from '../codec/errors.js';
import type { VnetHeader } from '../codec/vnet.js';
import type { Cmsg } from './cmsg.js';
import * as C from './consts.js';

export const TPACKET_AUXDATA_SIZE = 20;
export const VIRTIO_NET_HDR_SIZE = 10;
export const SOCK_EXTENDED_ERR_SIZE = 16;
export const TPACKET_STATS_SIZE = 8;
export const TIMESPEC_SIZE = 16;

function need(b: Buffer, size: number, what: string): void {
  if (b.length < size) throw new NicmatrixError('CODEC', `${what}: expected ${size} bytes, found ${b.length}`);
}

/** struct tpacket_auxdata: what AF_PACKET knew of a received frame. */
export interface TpacketAuxdata {
  status: number;
  len: number;
  snaplen: number;
  mac: number;
  net: number;
  vlanTci: number;
  vlanTpid: number;
}

export function decodeAuxdata(b: Buffer): TpacketAuxdata {
  need(b, TPACKET_AUXDATA_SIZE, 'tpacket_auxdata');
  return {
    status: b.readUInt32LE(0),
    len: b.readUInt32LE(4),
    snaplen: b.readUInt32LE(8),
    mac: b.readUInt16LE(12),
    net: b.readUInt16LE(14),
    vlanTci: b.readUInt16LE(16),
    vlanTpid: b.readUInt16LE(18),
  };
}

/** struct virtio_net_hdr in the host's (little-endian) order, as PACKET_VNET_HDR uses it. */
export function encodeVnetHdr(h: VnetHeader): Buffer {
  const b = Buffer.alloc(VIRTIO_NET_HDR_SIZE);
  b.writeUInt8(h.flags, 0);
  b.writeUInt8(h.gsoType, 1);
  b.writeUInt16LE(h.hdrLen, 2);
  b.writeUInt16LE(h.gsoSize, 4);
  b.writeUInt16LE(h.csumStart, 6);
  b.writeUInt16LE(h.csumOffset, 8);
  return b;
}

export function decodeVnetHdr(b: Buffer): VnetHeader {
  need(b, VIRTIO_NET_HDR_SIZE, 'virtio_net_hdr');
  return {
    flags: b.readUInt8(0),
    gsoType: b.readUInt8(1),
    hdrLen: b.readUInt16LE(2),
    gsoSize: b.readUInt16LE(4),
    csumStart: b.readUInt16LE(6),
    csumOffset: b.readUInt16LE(8),
  };
}

/** struct sock_extended_err, from a MSG_ERRQUEUE message (IP_RECVERR / IPV6_RECVERR). */
export interface SockExtendedErr {
  errno: number;
  origin: number;
  type: number;
  code: number;
  info: number;
  data: number;
}

export function decodeExtendedErr(b: Buffer): SockExtendedErr {
  need(b, SOCK_EXTENDED_ERR_SIZE, 'sock_extended_err');
  return {
    errno: b.readUInt32LE(0),
    origin: b.readUInt8(4),
    type: b.readUInt8(5),
    code: b.readUInt8(6),
    info: b.readUInt32LE(8),
    data: b.readUInt32LE(12),
  };
}

/** Send calls lo..hi (inclusive, counted from 0 per socket) are complete. */
export interface ZerocopyCompletion {
  lo: number;
  hi: number;
  /** The kernel copied the data instead of sending from the user pages. */
  copied: boolean;
}

/** The zero-copy completion in one MSG_ERRQUEUE message's control data, or null if it holds none. */
export function parseZerocopyCompletion(cmsgs: readonly Cmsg[]): ZerocopyCompletion | null {
  for (const m of cmsgs) {
    const isRecvErr = (m.level === C.SOL_IP && m.type === C.IP_RECVERR) || (m.level === C.SOL_IPV6 && m.type === C.IPV6_RECVERR);
    if (!isRecvErr) continue;
    const ee = decodeExtendedErr(m.data);
    if (ee.origin !== C.SO_EE_ORIGIN_ZEROCOPY) continue;
    return { lo: ee.info, hi: ee.data, copied: (ee.code & C.SO_EE_CODE_ZEROCOPY_COPIED) !== 0 };
  }
  return null;
}

/** struct tpacket_stats (PACKET_STATISTICS): counts since the last read, which resets them. */
export function decodeTpacketStats(b: Buffer): { packets: number; drops: number } {
  need(b, TPACKET_STATS_SIZE, 'tpacket_stats');
  return { packets: b.readUInt32LE(0), drops: b.readUInt32LE(4) };
}

/** struct timespec to nanoseconds. */
export function decodeTimespecNs(b: Buffer): bigint {
  need(b, TIMESPEC_SIZE, 'timespec');
  return b.readBigInt64LE(0) * 1_000_000_000n + b.readBigInt64LE(8);
}

export const MSGHDR_SIZE = 56;
export const IOVEC_SIZE = 16;

/** struct msghdr fields; pointers are native addresses (0n for NULL). */
export interface MsghdrLayout {
  name: bigint;
  nameLen: number;
  iov: bigint;
  iovLen: number;
  control: bigint;
  controlLen: number;
  flags: number;
}

export function encodeMsghdr(b: Buffer, off: number, m: MsghdrLayout): void {
  b.fill(0, off, off + MSGHDR_SIZE);
  b.writeBigUInt64LE(m.name, off);
  b.writeUInt32LE(m.nameLen, off + 8);
  b.writeBigUInt64LE(m.iov, off + 16);
  b.writeBigUInt64LE(BigInt(m.iovLen), off + 24);
  b.writeBigUInt64LE(m.control, off + 32);
  b.writeBigUInt64LE(BigInt(m.controlLen), off + 40);
  b.writeInt32LE(m.flags, off + 48);
}

/** The lengths and flags the kernel writes back into a msghdr after recvmsg. */
export function decodeMsghdrResult(b: Buffer, off: number): { nameLen: number; controlLen: number; flags: number } {
  return { nameLen: b.readUInt32LE(off + 8), controlLen: Number(b.readBigUInt64LE(off + 40)), flags: b.readInt32LE(off + 48) };
}

export function encodeIovec(b: Buffer, off: number, base: bigint, len: number): void {
  b.writeBigUInt64LE(base, off);
  b.writeBigUInt64LE(BigInt(len), off + 8);
}
