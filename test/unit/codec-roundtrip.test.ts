import { describe, expect, it } from 'vitest';
import {
  buildTcpFrame,
  buildUdpFrame,
  ETH_P_8021AD,
  ETH_P_8021Q,
  makeTci,
  parseFrame,
  tcpOpt,
  TCP_ACK,
  TCP_SYN,
  verifyL4,
  type Ipv6ExtSpec,
  type IpFrameSpec,
  type VlanSpec,
} from '../../harness/codec/index.js';
import { createRng, type Rng } from '../../harness/codec/random.js';

const VLAN_STACKS: VlanSpec[][] = [
  [],
  [{ tpid: ETH_P_8021Q, tci: makeTci(100, 5) }],
  [
    { tpid: ETH_P_8021AD, tci: makeTci(200, 0, true) },
    { tpid: ETH_P_8021Q, tci: makeTci(4094, 7) },
  ],
];

/** Router alert; then an uncopied (0x1e) and a copied (0x9e) experimental option, 10 bytes padded to 12 by the builder. */
const IP_OPTIONS = [undefined, Buffer.from([0x94, 0x04, 0x00, 0x00]), Buffer.from([0x1e, 0x04, 0, 0, 0x9e, 0x06, 1, 2, 3, 4])];

const EXT_CHAINS: Ipv6ExtSpec[][] = [
  [],
  [{ kind: 'hop-by-hop' }],
  [{ kind: 'destination', options: Buffer.from([0x1e, 0x03, 1, 2, 3]) }],
  [{ kind: 'hop-by-hop' }, { kind: 'routing' }, { kind: 'destination', options: Buffer.alloc(20, 0) }],
  [{ kind: 'hop-by-hop' }, { kind: 'destination' }, { kind: 'routing', data: Buffer.alloc(12, 0xaa) }, { kind: 'destination' }],
];

function ipPart(rng: Rng, family: 4 | 6, stack: VlanSpec[], extra: number): IpFrameSpec {
  const payload = rng.bytes(rng.pick([0, 1, 2, 7, 18, rng.int(0, 1500), rng.int(1500, 8900)]));
  if (family === 4) {
    return {
      family,
      src: `192.0.2.${rng.int(1, 254)}`,
      dst: `198.51.100.${rng.int(1, 254)}`,
      vlan: stack,
      payload,
      ipOptions: IP_OPTIONS[extra % IP_OPTIONS.length],
      ipv4: { ttl: rng.int(1, 255), id: rng.int(0, 0xffff), df: rng.bool(), tos: rng.int(0, 255) },
    };
  }
  return {
    family,
    src: `2001:db8::${rng.int(1, 0xffff).toString(16)}`,
    dst: `2001:db8:1::${rng.int(1, 0xffff).toString(16)}`,
    vlan: stack,
    payload,
    ipv6ExtHeaders: EXT_CHAINS[extra % EXT_CHAINS.length],
    ipv6: { hopLimit: rng.int(1, 255), trafficClass: rng.int(0, 255), flowLabel: rng.int(0, 0xfffff) },
  };
}

describe('build -> parse round trips', () => {
  const rng = createRng(0xc0dec);
  for (const family of [4, 6] as const) {
    for (const stack of VLAN_STACKS) {
      for (let extra = 0; extra < (family === 4 ? IP_OPTIONS.length : EXT_CHAINS.length); extra++) {
        for (const l4 of ['udp', 'tcp'] as const) {
          it(`IPv${family} ${l4}, ${stack.length} tag(s), ${family === 4 ? 'options' : 'ext chain'} #${extra}`, () => {
            for (let n = 0; n < 8; n++) {
              const ip = ipPart(rng, family, stack, extra);
              const sport = rng.int(1, 65535);
              const dport = rng.int(1, 65535);
              const tcpOptions = rng.bool()
                ? Buffer.concat([tcpOpt.mss(1460), tcpOpt.sackPermitted(), tcpOpt.timestamps(1, 2), tcpOpt.nop(), tcpOpt.wscale(7)])
                : undefined;
              const seq = rng.u32();
              const ack = rng.u32();
              const frame =
                l4 === 'udp'
                  ? buildUdpFrame({ ...ip, sport, dport })
                  : buildTcpFrame({ ...ip, sport, dport, seq, ack, flags: TCP_SYN | TCP_ACK, window: 1234, options: tcpOptions });
              const p = parseFrame(frame);
              expect(p.error).toBeUndefined();
              expect(p.eth?.dst).toBe('02:00:00:00:00:02');
              expect(p.vlans.map((v) => [v.tpid, v.tci])).toEqual(stack.map((v) => [v.tpid, v.tci]));
              expect(p.vlans.map((v) => v.offset)).toEqual(stack.map((_, i) => 12 + 4 * i));
              const ipOff = 14 + 4 * stack.length;
              expect(p.ip?.offset).toBe(ipOff);
              expect(p.ip?.family).toBe(family);
              expect(p.ip?.src).toBe(ip.src);
              expect(p.ip?.dst).toBe(ip.dst);
              expect(p.ip?.proto).toBe(l4 === 'udp' ? 17 : 6);
              expect(p.ip?.totalLen).toBe(frame.length - ipOff);
              expect(p.trailer).toBe(0);
              if (p.ip?.family === 4) {
                expect(p.ip.headerChecksumOk).toBe(true);
                expect(p.ip.ttl).toBe(ip.ipv4?.ttl);
                expect(p.ip.id).toBe(ip.ipv4?.id);
                expect(p.ip.df).toBe(ip.ipv4?.df);
                expect(p.ip.hdrLen).toBe(20 + Math.ceil((ip.ipOptions?.length ?? 0) / 4) * 4);
                expect(p.ip.options.filter((o) => o.type !== 0).map((o) => o.type)).toEqual(
                  ip.ipOptions ? (ip.ipOptions.length > 4 ? [0x1e, 0x9e] : [0x94]) : [],
                );
              } else if (p.ip?.family === 6) {
                expect(p.ip.extHeaders.map((h) => h.type)).toEqual(
                  (ip.ipv6ExtHeaders ?? []).map((h) => ({ 'hop-by-hop': 0, routing: 43, destination: 60, fragment: 44 })[h.kind]),
                );
                expect(p.ip.extHeaders.every((h) => h.length % 8 === 0)).toBe(true);
                expect(p.ip.hopLimit).toBe(ip.ipv6?.hopLimit);
                expect(p.ip.trafficClass).toBe(ip.ipv6?.trafficClass);
                expect(p.ip.flowLabel).toBe(ip.ipv6?.flowLabel);
              }
              expect(p.l4?.kind).toBe(l4);
              expect(p.l4?.offset).toBe(ipOff + (p.ip?.hdrLen ?? 0));
              expect(p.l4?.sport).toBe(sport);
              expect(p.l4?.dport).toBe(dport);
              expect(p.l4?.checksumOffset).toBe((p.l4?.offset ?? 0) + (l4 === 'udp' ? 6 : 16));
              expect(p.l4?.checksum).toBe(frame.readUInt16BE(p.l4?.checksumOffset ?? 0));
              if (l4 === 'tcp') {
                expect(p.l4?.tcp?.seq).toBe(seq);
                expect(p.l4?.tcp?.ack).toBe(ack);
                expect(p.l4?.tcp?.flags).toBe(TCP_SYN | TCP_ACK);
                expect(p.l4?.tcp?.window).toBe(1234);
                expect(p.l4?.tcp?.hdrLen).toBe(tcpOptions ? 40 : 20);
                expect(p.l4?.tcp?.options.map((o) => o.kind)).toEqual(tcpOptions ? [2, 4, 8, 1, 3] : []);
              } else {
                expect(p.l4?.udp?.length).toBe(8 + (ip.payload?.length ?? 0));
              }
              const data = frame.subarray(p.payload?.offset, (p.payload?.offset ?? 0) + (p.payload?.length ?? 0));
              expect(Buffer.compare(data, Buffer.from(ip.payload ?? []))).toBe(0);
              const v = verifyL4(frame);
              expect(v.ok).toBe(true);
              expect(v.state).toBe('good');
              expect(v.kind).toBe(`ipv${family}-${l4}`);
              expect(v.found).toBe(v.expected);
            }
          });
        }
      }
    }
  }

  it('pads to the Ethernet minimum and reports the padding as trailer', () => {
    const f = buildUdpFrame({ family: 4, src: '192.0.2.1', dst: '192.0.2.2', sport: 1, dport: 2, padTo: 60 });
    expect(f.length).toBe(60);
    const p = parseFrame(f);
    expect(p.error).toBeUndefined();
    expect(p.trailer).toBe(60 - 14 - 28);
    expect(p.payload).toEqual({ offset: 42, length: 0 });
    expect(verifyL4(f).state).toBe('good');
  });

  it('rejects mixed-family options and bad checksum modes', () => {
    expect(() => buildUdpFrame({ family: 6, src: '::1', dst: '::2', sport: 1, dport: 2, ipOptions: Buffer.from([1]) })).toThrow(
      /IPv4 options/,
    );
    expect(() =>
      buildUdpFrame({ family: 4, src: '1.2.3.4', dst: '1.2.3.5', sport: 1, dport: 2, ipv6ExtHeaders: [{ kind: 'hop-by-hop' }] }),
    ).toThrow(/IPv6 extension/);
    expect(() => buildUdpFrame({ family: 4, src: '1.2.3.4', dst: '1.2.3.5', sport: 1, dport: 2, checksum: 0x10000 })).toThrow(/16-bit/);
    expect(() => buildTcpFrame({ family: 4, src: '1.2.3.4', dst: '1.2.3.5', sport: 1, dport: 2, options: Buffer.alloc(41) })).toThrow(
      /40 bytes/,
    );
    expect(() => buildTcpFrame({ family: 4, src: '1.2.3.4', dst: '1.2.3.5', sport: 1, dport: 2, flags: 'SX' })).toThrow(/FSRPAUEC/);
  });

  it('accepts TCP flags as letters', () => {
    const f = buildTcpFrame({ family: 4, src: '1.2.3.4', dst: '1.2.3.5', sport: 1, dport: 2, flags: 'sa' });
    expect(parseFrame(f).l4?.tcp?.flags).toBe(TCP_SYN | TCP_ACK);
  });
});
