/**
 * AF_PACKET through the syscall layer on a real veth pair (two netns, the
 * sockets opened in-process with setns): what the peer captures of a UDP
 * datagram with TX checksum offload on and off, virtio_net_hdr sends, kernel
 * statistics, and errors that name the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, checkPartialSeed, type IpFamily, parseFrame, verifyL4 } from '../../harness/codec/index.js';
import { Capture } from '../../harness/sys/capture.js';
import * as C from '../../harness/sys/consts.js';
import { UdpSocket } from '../../harness/sys/inet.js';
import { inNetns } from '../../harness/sys/netns.js';
import { PacketSocket, type ReceivedFrame } from '../../harness/sys/packet.js';
import { addrOf, expectedUdpFrame, type LinkEnd, makeVethLink, setTxCsum, type VethLink } from './sys-fixtures.js';

let link: VethLink;
beforeAll(async () => {
  link = await makeVethLink('pk');
});
afterAll(async () => {
  await link?.destroy();
});

const incoming = (f: ReceivedFrame) => f.pkttype !== C.PACKET_OUTGOING;
const startCapture = (end: LinkEnd, vnetHdr = true) => inNetns(end.netns, () => Capture.start(end.ifname, { vnetHdr }));

/** Sends one datagram A → B from an ordinary UDP socket while B captures; B's own socket receives it. */
async function sendUdp(family: IpFamily, payload: Buffer, dport: number) {
  const cap = startCapture(link.b);
  const rx = inNetns(link.b.netns, () => UdpSocket.open(family, { src: addrOf(link.b, family), sport: dport }));
  try {
    const tx = inNetns(link.a.netns, () => UdpSocket.open(family, { src: addrOf(link.a, family), sport: 40000 }));
    try {
      await tx.sendTo(addrOf(link.b, family), dport, payload);
    } finally {
      tx.close();
    }
    // Only this flow: IPv6 housekeeping (MLD, RS) from a fresh link may arrive meanwhile.
    const res = await cap.stop({ expect: 1, keep: (f) => incoming(f) && parseFrame(f.data).l4?.dport === dport });
    await rx.sock.wait(C.POLLIN, 2000);
    return { ...res, delivered: rx.recv() };
  } finally {
    cap.close();
    rx.close();
  }
}

describe.each([4, 6] as const)('UDP over IPv%i, captured on the peer', (family) => {
  const payload = Buffer.from(`nicmatrix syscall layer, IPv${family}, odd length!`);
  const spec = () => ({
    family,
    srcMac: link.a.mac,
    dstMac: link.b.mac,
    src: addrOf(link.a, family),
    dst: addrOf(link.b, family),
    sport: 40000,
    payload,
  });
  const l4Start = family === 4 ? 34 : 54;

  it('TX checksum offload on: TP_STATUS_CSUMNOTREADY, csum_start/offset from the virtio_net_hdr, pseudo-header seed in the field', async () => {
    await setTxCsum(link.a, true);
    const { frames, dropped, delivered } = await sendUdp(family, payload, 5000 + family);
    expect(dropped).toBe(0);
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f.pkttype).toBe(C.PACKET_HOST);
    expect(f.aux.status & C.TP_STATUS_CSUMNOTREADY).toBe(C.TP_STATUS_CSUMNOTREADY);
    expect(f.aux).toMatchObject({ len: f.data.length, snaplen: f.data.length, net: 14, vlanTci: 0, vlanTpid: 0 });
    expect(f.vnet).toEqual({ flags: C.VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: l4Start, csumOffset: 6 });
    expect(checkPartialSeed(f.data, l4Start, 6)).toMatchObject({ ok: true });
    expect(f.data.toString('hex')).toBe(expectedUdpFrame(f.data, { ...spec(), dport: 5000 + family, checksum: 'partial' }).toString('hex'));
    // The receiving stack trusts a partial checksum: the datagram is delivered.
    expect(delivered?.data.toString()).toBe(payload.toString());
  });

  it('TX checksum offload off: the checksum is complete and the bytes are exactly the datagram', async () => {
    await setTxCsum(link.a, false);
    try {
      const { frames, delivered } = await sendUdp(family, payload, 5100 + family);
      expect(frames).toHaveLength(1);
      const f = frames[0]!;
      expect(f.aux.status & C.TP_STATUS_CSUMNOTREADY).toBe(0);
      expect((f.vnet?.flags ?? 0) & C.VIRTIO_NET_HDR_F_NEEDS_CSUM).toBe(0);
      expect(verifyL4(f.data)).toMatchObject({ ok: true, state: 'good' });
      expect(f.data.toString('hex')).toBe(expectedUdpFrame(f.data, { ...spec(), dport: 5100 + family }).toString('hex'));
      expect(delivered?.from).toEqual({ family, addr: addrOf(link.a, family), port: 40000 });
    } finally {
      await setTxCsum(link.a, true);
    }
  });
});

describe('PACKET_VNET_HDR sends', () => {
  const payload = Buffer.from('sent with a virtio_net_hdr NEEDS_CSUM');
  const vnet = { flags: C.VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 34, csumOffset: 6 };

  async function sendPartial(tx: boolean) {
    await setTxCsum(link.a, tx);
    const frame = buildUdpFrame({
      family: 4,
      srcMac: link.a.mac,
      dstMac: link.b.mac,
      src: link.a.ipv4,
      dst: link.b.ipv4,
      sport: 41000,
      dport: 9,
      payload,
      checksum: 'partial',
    });
    const cap = startCapture(link.b);
    const sock = inNetns(link.a.netns, () => PacketSocket.open(link.a.ifname, { receive: false, vnetHdr: true }));
    try {
      expect(await sock.send(frame, vnet)).toBe(frame.length);
    } finally {
      sock.close();
    }
    const { frames } = await cap.stop({ expect: 1, keep: (f) => incoming(f) && parseFrame(f.data).l4?.sport === 41000 });
    expect(frames).toHaveLength(1);
    return { frame, seen: frames[0]! };
  }

  it('veth with tx on: the frame crosses still partial, with the same csum_start/offset', async () => {
    const { frame, seen } = await sendPartial(true);
    expect(seen.aux.status & C.TP_STATUS_CSUMNOTREADY).toBe(C.TP_STATUS_CSUMNOTREADY);
    expect(seen.vnet).toMatchObject({ flags: C.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 });
    expect(seen.data.equals(frame)).toBe(true);
  });

  it('veth with tx off: the kernel completes the checksum in software before the wire', async () => {
    try {
      const { frame, seen } = await sendPartial(false);
      expect(seen.aux.status & C.TP_STATUS_CSUMNOTREADY).toBe(0);
      expect(verifyL4(seen.data)).toMatchObject({ ok: true, state: 'good' });
      expect(seen.data.subarray(0, 40).equals(frame.subarray(0, 40))).toBe(true);
      expect(seen.data.subarray(42).equals(frame.subarray(42))).toBe(true);
    } finally {
      await setTxCsum(link.a, true);
    }
  });

  it('lo: the looped frame stays partial on both the outgoing and the incoming tap', async () => {
    const frame = buildUdpFrame({
      family: 4,
      srcMac: '00:00:00:00:00:00',
      dstMac: '00:00:00:00:00:00',
      src: '127.0.0.1',
      dst: '127.0.0.1',
      sport: 41001,
      dport: 9,
      payload,
      checksum: 'partial',
    });
    const cap = inNetns(link.a.netns, () => Capture.start('lo', { vnetHdr: true }));
    const sock = inNetns(link.a.netns, () => PacketSocket.open('lo', { receive: false, vnetHdr: true }));
    try {
      await sock.send(frame, vnet);
    } finally {
      sock.close();
    }
    const { frames } = await cap.stop({ expect: 2, keep: (f) => parseFrame(f.data).l4?.sport === 41001 });
    expect(frames.map((f) => f.pkttype).sort()).toEqual([C.PACKET_HOST, C.PACKET_OUTGOING]);
    for (const f of frames) {
      expect(f.aux.status & C.TP_STATUS_CSUMNOTREADY).toBe(C.TP_STATUS_CSUMNOTREADY);
      expect(f.vnet).toMatchObject({ csumStart: 34, csumOffset: 6 });
      expect(f.data.equals(frame)).toBe(true);
    }
  });

  it('a frame without a header on a vnet socket goes out with a zero header; a header on a plain socket is refused', async () => {
    const frame = Buffer.concat([
      Buffer.from(link.b.mac.replace(/:/g, ''), 'hex'),
      Buffer.from(link.a.mac.replace(/:/g, ''), 'hex'),
      Buffer.from([0x88, 0xb5]),
      Buffer.alloc(46, 0x5a),
    ]);
    const cap = startCapture(link.b, false);
    const vsock = inNetns(link.a.netns, () => PacketSocket.open(link.a.ifname, { receive: false, vnetHdr: true }));
    const plain = inNetns(link.a.netns, () => PacketSocket.open(link.a.ifname, { receive: false }));
    try {
      await vsock.send(frame);
      await expect(plain.send(frame, vnet)).rejects.toThrow(/expected AF_PACKET socket on \S+ opened with vnetHdr/);
    } finally {
      vsock.close();
      plain.close();
    }
    const { frames } = await cap.stop({ expect: 1, keep: (f) => f.data.readUInt16BE(12) === 0x88b5 });
    expect(frames.map((f) => f.data.toString('hex'))).toEqual([frame.toString('hex')]);
  });
});

describe('socket facts', () => {
  it('SO_RCVBUFFORCE takes (the kernel doubles it) and PACKET_STATISTICS counts what was queued', async () => {
    const sock = inNetns(link.b.netns, () => PacketSocket.open(link.b.ifname, { rcvbuf: 8 << 20 }));
    try {
      expect(sock.sock.getInt(C.SOL_SOCKET, C.SO_RCVBUF, 'SO_RCVBUF')).toBe(16 << 20);
      const tx = inNetns(link.a.netns, () => UdpSocket.open(4));
      try {
        for (let i = 0; i < 3; i++) await tx.sendTo(link.b.ipv4, 9, Buffer.from([i]));
      } finally {
        tx.close();
      }
      await sock.sock.wait(C.POLLIN, 2000);
      const stats = sock.stats();
      expect(stats.drops).toBe(0);
      expect(stats.packets).toBeGreaterThanOrEqual(3);
      // Reading resets the counters (a stray IPv6 housekeeping frame may come in between).
      const again = sock.stats();
      expect(again.drops).toBe(0);
      expect(again.packets).toBeLessThan(stats.packets);
    } finally {
      sock.close();
    }
  });

  it('a wait on a closed socket never closes the fd number a newer socket got', async () => {
    const old = inNetns(link.a.netns, () => PacketSocket.open(link.a.ifname, { receive: false }));
    old.close();
    const fresh = inNetns(link.a.netns, () => PacketSocket.open(link.a.ifname, { receive: false }));
    try {
      expect(fresh.sock.fd).toBe(old.sock.fd);
      expect(await old.sock.wait(C.POLLIN, 10)).toBe(0);
      expect(fresh.sock.getInt(C.SOL_SOCKET, C.SO_TYPE, 'SO_TYPE')).toBe(C.SOCK_RAW);
    } finally {
      fresh.close();
    }
  });

  it('binding to a missing ifindex fails naming the call, the socket and the errno', () => {
    const err = (() => {
      try {
        inNetns(link.a.netns, () => PacketSocket.open(999_999));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({
      code: 'SYSCALL',
      message: 'bind(ifindex 999999) on AF_PACKET socket: ENODEV (No such device)',
      details: { errno: 19, errnoName: 'ENODEV' },
    });
    expect(() => inNetns(link.a.netns, () => PacketSocket.open('nmsys-none'))).toThrow(
      'if_nametoindex("nmsys-none"): ENODEV (No such device)',
    );
  });

  it('setsockopt errors name the option and the errno; PACKET_VNET_HDR reads back; a closed socket refuses calls', () => {
    const sock = inNetns(link.a.netns, () => PacketSocket.open(link.a.ifname, { receive: false }));
    try {
      expect(() => sock.sock.setInt(C.SOL_PACKET, 9999, 1, 'PACKET_9999')).toThrow(
        /^setsockopt\(PACKET_9999\) on AF_PACKET socket on \S+: ENOPROTOOPT \(Protocol not available\)$/,
      );
      sock.sock.setInt(C.SOL_PACKET, C.PACKET_VNET_HDR, 1, 'PACKET_VNET_HDR');
      expect(sock.sock.getInt(C.SOL_PACKET, C.PACKET_VNET_HDR, 'PACKET_VNET_HDR')).toBe(1);
    } finally {
      sock.close();
    }
    expect(() => sock.sock.setInt(C.SOL_PACKET, C.PACKET_VNET_HDR, 1, 'PACKET_VNET_HDR')).toThrow(/already closed/);
  });
});
