/** Kernel struct encodings of the syscall layer (x86_64 Linux layouts), pure. */
import { describe, expect, it } from 'vitest';
import { buildCmsgs, cmsgSpace, findCmsg, parseCmsgs, requireCmsg } from '../../harness/sys/cmsg.js';
import * as C from '../../harness/sys/consts.js';
import {
  decodeSockaddrIn,
  decodeSockaddrLl,
  encodeSockaddrIn,
  encodeSockaddrLl,
  SOCKADDR_IN6_SIZE,
  SOCKADDR_IN_SIZE,
  SOCKADDR_LL_SIZE,
  splitZone,
} from '../../harness/sys/sockaddr.js';
import {
  decodeAuxdata,
  decodeExtendedErr,
  decodeMsghdrResult,
  decodeTimespecNs,
  decodeTpacketStats,
  decodeVnetHdr,
  encodeIovec,
  encodeMsghdr,
  encodeVnetHdr,
  MSGHDR_SIZE,
  parseZerocopyCompletion,
} from '../../harness/sys/structs.js';

describe('sockaddr', () => {
  it('sockaddr_ll: 20 bytes, family host order, protocol network order, ifindex at 4, pkttype at 10, halen/addr at 11/12', () => {
    const b = encodeSockaddrLl({ protocol: C.ETH_P_ALL, ifindex: 0x01020304, pkttype: C.PACKET_OUTGOING, addr: '02:00:00:00:00:2a' });
    expect(b.length).toBe(SOCKADDR_LL_SIZE);
    expect(b.subarray(0, 12).toString('hex')).toBe('1100' + '0003' + '04030201' + '0000' + '04' + '06');
    expect(b.subarray(12).toString('hex')).toBe('02000000002a0000');
    expect(decodeSockaddrLl(b)).toEqual({ protocol: 3, ifindex: 0x01020304, hatype: 0, pkttype: 4, addr: '02:00:00:00:00:2a' });
  });

  it('sockaddr_ll decode rejects another family or a short buffer, naming both', () => {
    expect(() => decodeSockaddrLl(Buffer.alloc(20))).toThrow(
      /sockaddr_ll: expected 20 bytes of family AF_PACKET, found 20 bytes of family 0/,
    );
    expect(() => decodeSockaddrLl(Buffer.alloc(4))).toThrow(/found 4 bytes/);
  });

  it('sockaddr_in: 16 bytes, port and address in network order', () => {
    const b = encodeSockaddrIn({ family: 4, addr: '198.18.0.2', port: 0x1234 });
    expect(b.length).toBe(SOCKADDR_IN_SIZE);
    expect(b.toString('hex')).toBe('0200' + '1234' + 'c6120002' + '0000000000000000');
    expect(decodeSockaddrIn(b)).toEqual({ family: 4, addr: '198.18.0.2', port: 0x1234 });
  });

  it('sockaddr_in6: 28 bytes, flowinfo 0, address at 8, scope id (host order) at 24', () => {
    const b = encodeSockaddrIn({ family: 6, addr: 'fe80::1', port: 443, scopeId: 7 });
    expect(b.length).toBe(SOCKADDR_IN6_SIZE);
    expect(b.readUInt16LE(0)).toBe(C.AF_INET6);
    expect(b.readUInt16BE(2)).toBe(443);
    expect(b.readUInt32BE(4)).toBe(0);
    expect(b.subarray(8, 24).toString('hex')).toBe('fe800000000000000000000000000001');
    expect(b.readUInt32LE(24)).toBe(7);
    expect(decodeSockaddrIn(b)).toEqual({ family: 6, addr: 'fe80::1', port: 443, scopeId: 7 });
    expect(decodeSockaddrIn(encodeSockaddrIn({ family: 6, addr: '2001:db8::2', port: 1 }))).toEqual({
      family: 6,
      addr: '2001:db8::2',
      port: 1,
    });
  });

  it('sockaddr decode names the family it found', () => {
    expect(() => decodeSockaddrIn(encodeSockaddrLl({ protocol: 0, ifindex: 1 }))).toThrow(
      /expected AF_INET .* found family 17 in 20 bytes/,
    );
  });

  it('splits an IPv6 zone', () => {
    expect(splitZone('fe80::1%veth0')).toEqual({ addr: 'fe80::1', zone: 'veth0' });
    expect(splitZone('10.0.0.1')).toEqual({ addr: '10.0.0.1' });
  });
});

describe('control messages', () => {
  it('CMSG_SPACE: 16-byte header, data padded to 8', () => {
    expect(cmsgSpace(20)).toBe(40); // tpacket_auxdata
    expect(cmsgSpace(16)).toBe(32); // timespec, sock_extended_err
    expect(cmsgSpace(4)).toBe(24);
  });

  it('builds and parses a chain; cmsg_len excludes the padding', () => {
    const msgs = [
      { level: C.SOL_PACKET, type: C.PACKET_AUXDATA, data: Buffer.alloc(20, 0xaa) },
      { level: C.SOL_IPV6, type: C.IPV6_DSTOPTS, data: Buffer.from([0, 0, 1, 4, 0, 0, 0, 0]) },
    ];
    const b = buildCmsgs(msgs);
    expect(b.length).toBe(40 + 24);
    expect(Number(b.readBigUInt64LE(0))).toBe(36);
    expect(b.readInt32LE(8)).toBe(263);
    expect(b.readInt32LE(12)).toBe(8);
    expect(parseCmsgs(b)).toEqual(msgs);
    expect(findCmsg(parseCmsgs(b), C.SOL_IPV6, C.IPV6_DSTOPTS)?.length).toBe(8);
  });

  it('stops at a truncated or nonsensical entry as CMSG_NXTHDR does', () => {
    const b = buildCmsgs([
      { level: 1, type: 2, data: Buffer.alloc(8) },
      { level: 3, type: 4, data: Buffer.alloc(8) },
    ]);
    expect(parseCmsgs(b, b.length - 4).map((m) => m.level)).toEqual([1]);
    const bad = Buffer.from(b);
    bad.writeBigUInt64LE(3n, 0);
    expect(parseCmsgs(bad)).toEqual([]);
  });

  it('requireCmsg says what is missing', () => {
    expect(() => requireCmsg([], C.SOL_PACKET, C.PACKET_AUXDATA, 20, 'recvmsg on AF_PACKET')).toThrow(
      /recvmsg on AF_PACKET: expected a control message \(level 263, type 8\) of >= 20 bytes, found none/,
    );
  });
});

describe('fixed structs', () => {
  it('tpacket_auxdata', () => {
    const b = Buffer.alloc(20);
    b.writeUInt32LE(C.TP_STATUS_CSUMNOTREADY | 1, 0);
    b.writeUInt32LE(1514, 4);
    b.writeUInt32LE(96, 8);
    b.writeUInt16LE(0, 12);
    b.writeUInt16LE(14, 14);
    b.writeUInt16LE(0x2005, 16);
    b.writeUInt16LE(0x8100, 18);
    expect(decodeAuxdata(b)).toEqual({ status: 9, len: 1514, snaplen: 96, mac: 0, net: 14, vlanTci: 0x2005, vlanTpid: 0x8100 });
    expect(() => decodeAuxdata(Buffer.alloc(19))).toThrow(/tpacket_auxdata: expected 20 bytes, found 19/);
  });

  it('virtio_net_hdr: 10 bytes, little-endian 16-bit fields', () => {
    const h = {
      flags: C.VIRTIO_NET_HDR_F_NEEDS_CSUM,
      gsoType: C.VIRTIO_NET_HDR_GSO_TCPV4,
      hdrLen: 54,
      gsoSize: 1448,
      csumStart: 34,
      csumOffset: 16,
    };
    const b = encodeVnetHdr(h);
    expect(b.toString('hex')).toBe('01' + '01' + '3600' + 'a805' + '2200' + '1000');
    expect(decodeVnetHdr(b)).toEqual(h);
  });

  it('sock_extended_err and the zero-copy completion it carries', () => {
    const ee = Buffer.alloc(16);
    ee.writeUInt32LE(0, 0);
    ee.writeUInt8(C.SO_EE_ORIGIN_ZEROCOPY, 4);
    ee.writeUInt8(C.SO_EE_CODE_ZEROCOPY_COPIED, 6);
    ee.writeUInt32LE(3, 8);
    ee.writeUInt32LE(9, 12);
    expect(decodeExtendedErr(ee)).toEqual({ errno: 0, origin: 5, type: 0, code: 1, info: 3, data: 9 });
    expect(parseZerocopyCompletion([{ level: C.SOL_IP, type: C.IP_RECVERR, data: ee }])).toEqual({ lo: 3, hi: 9, copied: true });
    ee.writeUInt8(0, 6);
    expect(parseZerocopyCompletion([{ level: C.SOL_IPV6, type: C.IPV6_RECVERR, data: ee }])).toEqual({ lo: 3, hi: 9, copied: false });
    ee.writeUInt8(C.SO_EE_ORIGIN_ICMP, 4);
    expect(parseZerocopyCompletion([{ level: C.SOL_IP, type: C.IP_RECVERR, data: ee }])).toBeNull();
    expect(parseZerocopyCompletion([])).toBeNull();
  });

  it('msghdr: 56 bytes, pointers at 0/16/32, lengths at 8/24/40, flags at 48; iovec base/len', () => {
    const b = Buffer.alloc(MSGHDR_SIZE + 16, 0xee);
    encodeMsghdr(b, 0, { name: 0x1000n, nameLen: 128, iov: 0x2000n, iovLen: 1, control: 0x3000n, controlLen: 256, flags: 0 });
    expect(b.readBigUInt64LE(0)).toBe(0x1000n);
    expect(b.readUInt32LE(8)).toBe(128);
    expect(b.readUInt32LE(12)).toBe(0); // padding cleared
    expect(b.readBigUInt64LE(16)).toBe(0x2000n);
    expect(b.readBigUInt64LE(24)).toBe(1n);
    expect(b.readBigUInt64LE(32)).toBe(0x3000n);
    expect(b.readBigUInt64LE(40)).toBe(256n);
    expect(decodeMsghdrResult(b, 0)).toEqual({ nameLen: 128, controlLen: 256, flags: 0 });
    encodeIovec(b, MSGHDR_SIZE, 0xabcdefn, 1500);
    expect(b.readBigUInt64LE(MSGHDR_SIZE)).toBe(0xabcdefn);
    expect(b.readBigUInt64LE(MSGHDR_SIZE + 8)).toBe(1500n);
  });

  it('tpacket_stats and timespec', () => {
    const s = Buffer.alloc(8);
    s.writeUInt32LE(10, 0);
    s.writeUInt32LE(2, 4);
    expect(decodeTpacketStats(s)).toEqual({ packets: 10, drops: 2 });
    const ts = Buffer.alloc(16);
    ts.writeBigInt64LE(1_700_000_000n, 0);
    ts.writeBigInt64LE(123_456_789n, 8);
    expect(decodeTimespecNs(ts)).toBe(1_700_000_000_123_456_789n);
  });
});
