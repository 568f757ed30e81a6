/**
 * AF_PACKET SOCK_RAW sockets bound to one interface: receive with
 * PACKET_AUXDATA (+ PACKET_VNET_HDR, kernel timestamps), send whole frames
 * (with a virtio_net_hdr in front when PACKET_VNET_HDR is on).
 */
import type { VnetHeader } from '../codec/vnet.js';
import { findCmsg } from './cmsg.js';
import * as C from './consts.js';
import { NicmatrixError } from '../codec/errors.js';
import { EAGAIN, syscallError } from './errno.js';
import { lastErrno, libc } from './libc.js';
import { RecvBuffers, sendMsg } from './msghdr.js';
import { decodeSockaddrLl, encodeSockaddrLl } from './sockaddr.js';
import { openSocket, type Socket } from './socket.js';
import {
  decodeAuxdata,
  decodeTimespecNs,
  decodeTpacketStats,
  decodeVnetHdr,
  encodeVnetHdr,
  type TpacketAuxdata,
  VIRTIO_NET_HDR_SIZE,
} from './structs.js';

/** Interface index of `name` in the calling thread's netns (if_nametoindex). */
export function ifIndex(name: string): number {
  const idx = libc().if_nametoindex(name);
  if (idx === 0) throw syscallError(`if_nametoindex(${JSON.stringify(name)})`, lastErrno());
  return idx;
}

export interface PacketSocketOptions {
  /** Receive frames (bind with ETH_P_ALL); off for a send-only socket. Default true. */
  receive?: boolean;
  /** PACKET_VNET_HDR: a virtio_net_hdr precedes every frame read and written. */
  vnetHdr?: boolean;
  /** SO_RCVBUFFORCE bytes (the kernel doubles it); lets a capture be drained after the traffic. */
  rcvbuf?: number;
  /** Largest frame kept per read; longer frames are cut (their `len` stays whole). Default 262144. */
  snaplen?: number;
  /** PACKET_MR_PROMISC membership, for frames to other MAC addresses. */
  promisc?: boolean;
}

/** A received frame with what the kernel said of it. */
export interface ReceivedFrame {
  /** Frame bytes from the link-layer header on (at most snaplen). */
  data: Buffer;
  aux: TpacketAuxdata;
  /** sll_pkttype: PACKET_HOST, PACKET_OUTGOING... */
  pkttype: number;
  /** The virtio_net_hdr (PACKET_VNET_HDR sockets only). */
  vnet?: VnetHeader;
  /** Kernel receive time, CLOCK_REALTIME ns (SO_TIMESTAMPNS). */
  tsNs: bigint;
}

export const DEFAULT_SNAPLEN = 262144;
const CONTROL_CAP = 256;

export class PacketSocket {
  private bufs: RecvBuffers | undefined;

  private constructor(
    readonly sock: Socket,
    readonly ifname: string,
    readonly ifindex: number,
    readonly vnetHdr: boolean,
    readonly snaplen: number,
  ) {}

  /** Opens a socket on `iface`: an interface name, or an index used as is. */
  static open(iface: string | number, opts: PacketSocketOptions = {}): PacketSocket {
    const ifindex = typeof iface === 'number' ? iface : ifIndex(iface);
    const ifname = typeof iface === 'number' ? `ifindex ${iface}` : iface;
    // Protocol 0 at socket(): nothing is queued until bind() names the interface.
    const sock = openSocket(
      C.AF_PACKET,
      C.SOCK_RAW,
      0,
      'socket(AF_PACKET, SOCK_RAW)',
      typeof iface === 'number' ? 'AF_PACKET socket' : `AF_PACKET socket on ${iface}`,
    );
    try {
      const receive = opts.receive ?? true;
      if (opts.vnetHdr) sock.setInt(C.SOL_PACKET, C.PACKET_VNET_HDR, 1, 'PACKET_VNET_HDR');
      if (receive) {
        sock.setInt(C.SOL_PACKET, C.PACKET_AUXDATA, 1, 'PACKET_AUXDATA');
        sock.setInt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1, 'SO_TIMESTAMPNS');
        if (opts.rcvbuf) sock.setInt(C.SOL_SOCKET, C.SO_RCVBUFFORCE, opts.rcvbuf, 'SO_RCVBUFFORCE');
      }
      sock.bind(encodeSockaddrLl({ protocol: receive ? C.ETH_P_ALL : 0, ifindex }), `ifindex ${ifindex}`);
      if (opts.promisc)
        sock.setBytes(C.SOL_PACKET, C.PACKET_ADD_MEMBERSHIP, encodePacketMreq(ifindex, C.PACKET_MR_PROMISC), 'PACKET_ADD_MEMBERSHIP');
      // Counters start at socket creation; reading them once resets them to this point.
      if (receive) sock.getBytes(C.SOL_PACKET, C.PACKET_STATISTICS, 8, 'PACKET_STATISTICS');
      return new PacketSocket(sock, ifname, ifindex, !!opts.vnetHdr, opts.snaplen ?? DEFAULT_SNAPLEN);
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** Next queued frame, or null when none is (never blocks). */
  recv(): ReceivedFrame | null {
    this.bufs ??= new RecvBuffers(this.snaplen + (this.vnetHdr ? VIRTIO_NET_HDR_SIZE : 0), CONTROL_CAP);
    const r = this.bufs.recv(this.sock, C.MSG_DONTWAIT, 'recvmsg()');
    if (!r) return null;
    const auxRaw = findCmsg(r.cmsgs, C.SOL_PACKET, C.PACKET_AUXDATA);
    const ts = findCmsg(r.cmsgs, C.SOL_SOCKET, C.SCM_TIMESTAMPNS);
    const skip = this.vnetHdr ? VIRTIO_NET_HDR_SIZE : 0;
    const data = r.data.subarray(skip);
    const aux = auxRaw
      ? decodeAuxdata(auxRaw)
      : { status: 0, len: data.length, snaplen: data.length, mac: 0, net: 0, vlanTci: 0, vlanTpid: 0 };
    return {
      data,
      aux,
      pkttype: decodeSockaddrLl(r.name).pkttype,
      vnet: this.vnetHdr ? decodeVnetHdr(r.data.subarray(0, skip)) : undefined,
      tsNs: ts ? decodeTimespecNs(ts) : 0n,
    };
  }

  /**
   * Sends one frame on the bound interface; on a PACKET_VNET_HDR socket it goes
   * out behind `vnet` (all zero when absent). Waits for room up to `timeoutMs`.
   */
  async send(frame: Buffer, vnet?: VnetHeader, timeoutMs = 1000): Promise<number> {
    const parts = this.vnetHdr
      ? [encodeVnetHdr(vnet ?? { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 }), frame]
      : [frame];
    if (vnet && !this.vnetHdr)
      throw new NicmatrixError('USAGE', `send with a virtio_net_hdr: expected ${this.sock.what} opened with vnetHdr, found it without`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = sendMsg(this.sock, parts, { call: 'sendmsg()' });
      if (n !== null) return n - (this.vnetHdr ? VIRTIO_NET_HDR_SIZE : 0);
      if (Date.now() >= deadline) throw syscallError('sendmsg()', EAGAIN, `${this.sock.what} (no room for ${timeoutMs} ms)`);
      await this.sock.wait(C.POLLOUT, deadline - Date.now());
    }
  }

  /** PACKET_STATISTICS since the last call (the kernel resets them on read). */
  stats(): { packets: number; drops: number } {
    return decodeTpacketStats(this.sock.getBytes(C.SOL_PACKET, C.PACKET_STATISTICS, 8, 'PACKET_STATISTICS'));
  }

  close(): void {
    this.sock.close();
    this.bufs?.free();
    this.bufs = undefined;
  }
}

/** struct packet_mreq {int ifindex; u16 type; u16 alen; u8 address[8]}. */
function encodePacketMreq(ifindex: number, type: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(ifindex, 0);
  b.writeUInt16LE(type, 4);
  return b;
}
