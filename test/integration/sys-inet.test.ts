/**
 * IP sockets of the syscall layer on a real veth pair: UDP knobs Node lacks
 * (SO_NO_CHECK, IP_OPTIONS, IPV6_DSTOPTS sticky and per datagram,
 * SO_BINDTODEVICE) and raw IPPROTO_RAW injection, judged from the peer's capture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, type IpFamily, parseFrame, verifyL4 } from '../../harness/codec/index.js';
import { Capture } from '../../harness/sys/capture.js';
import { buildCmsgs } from '../../harness/sys/cmsg.js';
import * as C from '../../harness/sys/consts.js';
import { RawIpSocket, UdpSocket, type UdpSocketOptions } from '../../harness/sys/inet.js';
import { inNetns } from '../../harness/sys/netns.js';
import type { ReceivedFrame } from '../../harness/sys/packet.js';
import { addrOf, makeVethLink, setTxCsum, type VethLink } from './sys-fixtures.js';

let link: VethLink;
beforeAll(async () => {
  link = await makeVethLink('in');
  await setTxCsum(link.a, true);
});
afterAll(async () => {
  await link?.destroy();
});

/** Runs `send` in A while B captures and listens on `dport`; returns B's frames of that port and what B's socket got. */
async function exchange(family: IpFamily, dport: number, send: () => Promise<unknown>) {
  const cap = inNetns(link.b.netns, () => Capture.start(link.b.ifname, { vnetHdr: true }));
  const rx = inNetns(link.b.netns, () => UdpSocket.open(family, { src: addrOf(link.b, family), sport: dport }));
  try {
    await send();
    const mine = (f: ReceivedFrame) => f.pkttype !== C.PACKET_OUTGOING && parseFrame(f.data).l4?.dport === dport;
    const { frames } = await cap.stop({ expect: 1, keep: mine });
    await rx.sock.wait(C.POLLIN, 2000);
    return { frames, delivered: rx.recv() };
  } finally {
    cap.close();
    rx.close();
  }
}

async function udpFromA(family: IpFamily, dport: number, payload: Buffer, opts: UdpSocketOptions = {}, control?: Buffer) {
  return exchange(family, dport, async () => {
    const tx = inNetns(link.a.netns, () => UdpSocket.open(family, { src: addrOf(link.a, family), sport: 42000, ...opts }));
    try {
      await tx.sendTo(addrOf(link.b, family), dport, payload, control);
    } finally {
      tx.close();
    }
  });
}

describe('UDP socket options', () => {
  it('SO_NO_CHECK: the IPv4 datagram leaves with checksum 0 (not partial, even with offload on) and is delivered', async () => {
    const { frames, delivered } = await udpFromA(4, 6001, Buffer.from('no checksum'), { noChecksum: true });
    expect(frames).toHaveLength(1);
    expect(parseFrame(frames[0]!.data).l4?.checksum).toBe(0);
    expect(frames[0]!.aux.status & C.TP_STATUS_CSUMNOTREADY).toBe(0);
    expect(verifyL4(frames[0]!.data)).toMatchObject({ ok: true, state: 'absent' });
    expect(delivered?.data.toString()).toBe('no checksum');
  });

  it('SO_NO_CHECK is refused for IPv6, saying why', () => {
    expect(() => UdpSocket.open(6, { noChecksum: true })).toThrow(/expected family 4 \(SO_NO_CHECK is IPv4 only\), found family 6/);
  });

  it('IP_OPTIONS: the header carries the options and the L4 checksum offsets move with them', async () => {
    const options = Buffer.from([C.IPPROTO_IP + 1, 1, 1, 0]); // NOP NOP NOP END
    const { frames, delivered } = await udpFromA(4, 6002, Buffer.from('with options'), { ipOptions: options });
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f.data[14]! & 0x0f).toBe(6);
    expect(f.data.subarray(34, 38)).toEqual(options);
    expect(f.vnet).toMatchObject({ csumStart: 38, csumOffset: 6 });
    expect(delivered?.data.toString()).toBe('with options');
  });

  const dstOpts = Buffer.from([0, 0, 0x1e, 4, 0xde, 0xad, 0xbe, 0xef]); // experimental option type: receivers skip it

  it('IPV6_DSTOPTS (sticky): a destination-options header precedes UDP, whose checksum the stack completes itself', async () => {
    const { frames, delivered } = await udpFromA(6, 6003, Buffer.from('dstopts'), { ipv6DstOpts: dstOpts });
    expect(frames).toHaveLength(1);
    const ip = parseFrame(frames[0]!.data).ip;
    expect(ip).toMatchObject({ family: 6, nextHeader: 60, proto: 17 });
    expect(frames[0]!.data.subarray(56, 62)).toEqual(dstOpts.subarray(2));
    // __ip6_append_data offers CHECKSUM_PARTIAL only for a bare 40-byte header: with extension headers the sum is done in software.
    expect(frames[0]!.aux.status & C.TP_STATUS_CSUMNOTREADY).toBe(0);
    expect(verifyL4(frames[0]!.data)).toMatchObject({ ok: true, state: 'good' });
    expect(delivered?.data.toString()).toBe('dstopts');
  });

  it('IPV6_DSTOPTS as sendmsg ancillary data applies to that datagram', async () => {
    const control = buildCmsgs([{ level: C.SOL_IPV6, type: C.IPV6_DSTOPTS, data: dstOpts }]);
    const { frames } = await udpFromA(6, 6004, Buffer.from('cmsg dstopts'), {}, control);
    expect(parseFrame(frames[0]!.data).ip).toMatchObject({ nextHeader: 60, proto: 17 });
  });

  it('IPV6_HOPOPTS and SO_BINDTODEVICE: a hop-by-hop header first, sent by the named device', async () => {
    const hop = Buffer.from([0, 0, 1, 4, 0, 0, 0, 0]); // PadN
    const { frames, delivered } = await udpFromA(6, 6005, Buffer.from('hop'), { ipv6HopOpts: hop, device: link.a.ifname });
    expect(parseFrame(frames[0]!.data).ip).toMatchObject({ family: 6, nextHeader: 0, proto: 17 });
    expect(delivered?.data.toString()).toBe('hop');
  });

  it('SO_BINDTODEVICE to a missing device names the option and the errno', () => {
    expect(() => inNetns(link.a.netns, () => UdpSocket.open(4, { device: 'nmsys-none' }))).toThrow(
      /^setsockopt\(SO_BINDTODEVICE nmsys-none\) on UDP\/IPv4 socket: ENODEV \(No such device\)$/,
    );
  });

  it('a local address that is not ours fails in bind()', () => {
    expect(() => inNetns(link.a.netns, () => UdpSocket.open(4, { src: '192.0.2.99', sport: 1 }))).toThrow(
      /^bind\(192\.0\.2\.99 port 1\) on UDP\/IPv4 socket: EADDRNOTAVAIL/,
    );
  });
});

describe('raw IPPROTO_RAW injection', () => {
  it.each([4, 6] as const)('IPv%i: the packet crosses byte for byte and the peer stack delivers it', async (family) => {
    const dport = 6100 + family;
    const frame = buildUdpFrame({
      family,
      src: addrOf(link.a, family),
      dst: addrOf(link.b, family),
      sport: 43000,
      dport,
      payload: Buffer.from('injected'),
      ipv4: { id: 0x4242, df: true },
    });
    const packet = frame.subarray(14);
    const { frames, delivered } = await exchange(family, dport, async () => {
      const raw = inNetns(link.a.netns, () => RawIpSocket.open(family));
      try {
        expect(await raw.send(packet, addrOf(link.b, family))).toBe(packet.length);
      } finally {
        raw.close();
      }
    });
    expect(frames).toHaveLength(1);
    expect(frames[0]!.data.subarray(14).toString('hex')).toBe(packet.toString('hex'));
    expect(frames[0]!.data.subarray(0, 6).toString('hex')).toBe(link.b.mac.replace(/:/g, ''));
    expect(delivered?.data.toString()).toBe('injected');
  });
});
