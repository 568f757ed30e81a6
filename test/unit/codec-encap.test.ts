/**
 * Tunnels in the codec. Known answers: VXLAN frames captured with tcpdump on
 * this machine (Linux 6.18) across a veth pair, vxlan devices with udpcsum /
 * noudp6zerocsumtx, `ethtool -K tx off` on both the veth and the vxlan device
 * (every checksum complete); tcpdump -vv's own verdicts are in the comments.
 */
import { describe, expect, it } from 'vitest';
import { checksum } from '../../harness/codec/checksum.js';
import {
  buildGeneveFrame,
  buildGreFrame,
  buildTcpFrame,
  buildUdpFrame,
  buildVxlanFrame,
  ETH_P_IPV4,
  ETH_P_IPV6,
  ETH_P_TEB,
  innerOffsetOf,
  ipPacketOf,
  parseEncap,
  verifyGreChecksum,
  verifyL4,
  checkPartialSeed,
  partialOffsets,
  type IpFamily,
} from '../../harness/codec/index.js';
import { createRng } from '../../harness/codec/random.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// "192.0.2.1.52481 > 192.0.2.2.4789: [udp sum ok] VXLAN, flags [I] (0x08), vni 4242"
// "198.51.100.1.40000 > 198.51.100.2.9999: [udp sum ok] UDP, length 10"
const VXLAN4 = hex(`0200 0000 000b 0200 0000 000a 0800 4500 0058 513c 0000 4011 a555 c000 0201 c000
  0202 cd01 12b5 0044 4814 0800 0000 0010 9200 0200 0000 010b 0200 0000 010a 0800
  4500 0026 15c5 4000 4011 d097 c633 6401 c633 6402 9c40 270f 0012 ca39 6e69 636d 6174 7269 7821`);
// "2001:db8::1.38606 > 2001:db8::2.4789: [udp sum ok] VXLAN, flags [I] (0x08), vni 4242"
// "2001:db8:1::1.40001 > 2001:db8:1::2.9999: [udp sum ok] UDP, length 10"
const VXLAN6 = hex(`0200 0000 000b 0200 0000 000a 86dd 6000 0000 0058 1140 2001 0db8 0000 0000 0000
  0000 0000 0001 2001 0db8 0000 0000 0000 0000 0000 0002 96ce 12b5 0058 21d9 0800
  0000 0010 9200 0200 0000 010b 0200 0000 010a 86dd 600b 402f 0012 1140 2001 0db8
  0001 0000 0000 0000 0000 0001 2001 0db8 0001 0000 0000 0000 0000 0002 9c41 270f
  0012 c317 6e69 636d 6174 7269 7836`);

describe('known answers (tcpdump on Linux 6.18)', () => {
  it.each([
    ['IPv4', VXLAN4, '198.51.100.1', 'nicmatrix!'],
    ['IPv6', VXLAN6, '2001:db8:1::1', 'nicmatrix6'],
  ])('VXLAN over %s: vni, inner frame, both checksums good', (_n, frame, innerSrc, text) => {
    const { outer, encap, error } = parseEncap(frame);
    expect(error).toBeUndefined();
    expect(verifyL4(frame).state).toBe('good');
    expect(outer.l4?.dport).toBe(4789);
    expect(encap).toMatchObject({ kind: 'vxlan', vni: 4242, vxlanFlags: 8, innerProto: ETH_P_TEB, synthesizedL2: 0 });
    expect(encap!.innerParsed.eth?.src).toBe('02:00:00:00:01:0a');
    expect(encap!.innerParsed.ip?.src).toBe(innerSrc);
    expect(verifyL4(encap!.inner).state).toBe('good');
    const pl = encap!.innerParsed.payload!;
    expect(encap!.inner.subarray(pl.offset, pl.offset + pl.length).toString()).toBe(text);
  });

  it('a flipped inner byte breaks the inner and the outer checksum; the outer one alone is caught too', () => {
    const f = Buffer.from(VXLAN4);
    f[f.length - 1]! ^= 0x20;
    expect(verifyL4(f).state).toBe('bad');
    expect(verifyL4(parseEncap(f).encap!.inner).state).toBe('bad');
    const g = Buffer.from(VXLAN4);
    g.writeUInt16BE(0x1234, 14 + 20 + 6);
    expect(verifyL4(g).state).toBe('bad');
    expect(verifyL4(parseEncap(g).encap!.inner).state).toBe('good');
  });
});

function innerFrame(rng: ReturnType<typeof createRng>, family: IpFamily, tcp: boolean): Buffer {
  const addrs = family === 4 ? { src: '198.51.100.1', dst: '198.51.100.2' } : { src: '2001:db8:1::1', dst: '2001:db8:1::2' };
  const base = { family, ...addrs, srcMac: '02:00:00:00:01:0a', dstMac: '02:00:00:00:01:0b', payload: rng.bytes(rng.int(0, 1300)) };
  return tcp
    ? buildTcpFrame({ ...base, sport: rng.int(1, 65535), dport: rng.int(1, 65535), seq: rng.u32(), ack: rng.u32() })
    : buildUdpFrame({ ...base, sport: rng.int(1, 65535), dport: rng.int(1, 65535) });
}

describe('round trips', () => {
  const rng = createRng(42);
  const outer = (family: IpFamily) =>
    family === 4 ? { family, src: '192.0.2.1', dst: '192.0.2.2' } : ({ family, src: '2001:db8::1', dst: '2001:db8::2' } as const);

  it('VXLAN and GENEVE, outer IPv4/IPv6, outer checksum on or zero, inner UDP/TCP over IPv4/IPv6', () => {
    for (let i = 0; i < 80; i++) {
      const of = rng.pick([4, 6] as const);
      const inner = innerFrame(rng, rng.pick([4, 6] as const), rng.bool());
      const csum = rng.pick(['correct', 'zero'] as const);
      const vni = rng.int(0, 0xffffff);
      const sport = rng.int(1024, 65535);
      const geneve = rng.bool();
      const options = geneve && rng.bool() ? [{ optClass: 0x0102, type: 0x80, data: rng.bytes(8) }] : [];
      const frame = geneve
        ? buildGeneveFrame({ ...outer(of), sport, checksum: csum, geneve: { vni, options }, inner })
        : buildVxlanFrame({ ...outer(of), sport, checksum: csum, vni, inner });
      const { encap, error } = parseEncap(frame);
      expect(error).toBeUndefined();
      expect(encap!.kind).toBe(geneve ? 'geneve' : 'vxlan');
      expect(encap!.vni).toBe(vni);
      if (geneve) expect(encap!.geneve!.options).toEqual(options);
      expect(encap!.inner.equals(inner)).toBe(true);
      expect(verifyL4(frame).state).toBe(csum === 'zero' ? (of === 4 ? 'absent' : 'bad') : 'good');
      expect(verifyL4(encap!.inner).state).toBe('good');
    }
  });

  it('GRE carrying IP (gre, ip6gre) or Ethernet (gretap), with and without checksum, key and sequence', () => {
    for (let i = 0; i < 80; i++) {
      const of = rng.pick([4, 6] as const);
      const innerFam = rng.pick([4, 6] as const);
      const frame0 = innerFrame(rng, innerFam, rng.bool());
      const tap = rng.bool();
      const gre = {
        protocol: tap ? ETH_P_TEB : innerFam === 4 ? ETH_P_IPV4 : ETH_P_IPV6,
        checksum: rng.bool() ? ('correct' as const) : undefined,
        key: rng.bool() ? rng.u32() : undefined,
        seq: rng.bool() ? rng.u32() : undefined,
      };
      const frame = buildGreFrame({ ...outer(of), gre, inner: tap ? frame0 : ipPacketOf(frame0) });
      const { encap, error } = parseEncap(frame);
      expect(error).toBeUndefined();
      expect(encap!.kind).toBe('gre');
      const g = encap!.gre!;
      expect([g.protocol, g.key, g.seq, g.checksumPresent]).toEqual([gre.protocol, gre.key, gre.seq, gre.checksum !== undefined]);
      expect(encap!.synthesizedL2).toBe(tap ? 0 : 14);
      expect(encap!.innerParsed.ip?.family).toBe(innerFam);
      expect(verifyL4(encap!.inner).state).toBe('good');
      const v = verifyGreChecksum(frame, encap!);
      expect(v.state).toBe(gre.checksum ? 'good' : 'absent');
      if (gre.checksum) {
        expect(v.found).toBe(v.expected);
        const bad = Buffer.from(frame);
        bad[bad.length - 1]! ^= 0x40;
        expect(verifyGreChecksum(bad, parseEncap(bad).encap!).state).toBe('bad');
      }
    }
  });

  it('GRE checksum is the internet checksum of header and payload', () => {
    const frame = buildGreFrame({ ...outer(4), gre: { protocol: ETH_P_IPV4, checksum: 'correct' }, inner: Buffer.from('45000014', 'hex') });
    expect(checksum(frame, 34, frame.length)).toBe(0);
  });

  it('a partial inner checksum: its offsets map into the inner frame and the seed checks out', () => {
    const inner = buildUdpFrame({
      family: 6,
      src: '2001:db8:1::1',
      dst: '2001:db8:1::2',
      sport: 1,
      dport: 2,
      payload: rng.bytes(99),
      checksum: 'partial',
    });
    const frame = buildGreFrame({ ...outer(4), gre: { protocol: ETH_P_IPV6, key: 7 }, inner: ipPacketOf(inner) });
    const { encap } = parseEncap(frame);
    const offs = partialOffsets(inner)!;
    const outerStart = encap!.innerOffset + offs.csumStart - 14;
    expect(innerOffsetOf(encap!, outerStart)).toBe(offs.csumStart);
    expect(checkPartialSeed(encap!.inner, offs.csumStart, offs.csumOffset).ok).toBe(true);
  });

  it('short tunnel headers are named, not thrown', () => {
    const f = buildVxlanFrame({ ...outer(4), sport: 1, vni: 1, inner: Buffer.alloc(0) });
    expect(parseEncap(f.subarray(0, f.length - 4)).encap).toBeUndefined();
    const g = buildGreFrame({ ...outer(4), gre: { protocol: ETH_P_IPV4, key: 1 }, inner: Buffer.alloc(0) });
    g.writeUInt16BE(g.readUInt16BE(16) - 4, 16);
    expect(parseEncap(g).error).toMatch(/gre: header with its options needs 8 bytes/);
    const u = buildUdpFrame({ ...outer(4), sport: 1, dport: 53, payload: Buffer.alloc(20) });
    expect(parseEncap(u).encap).toBeUndefined();
  });
});
