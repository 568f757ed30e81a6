import { describe, expect, it } from 'vitest';
import {
  buildIpv4Fragments,
  buildIpv6Fragments,
  buildTcpFrame,
  buildUdpFrame,
  checkPartialSeed,
  ETH_P_8021AD,
  ETH_P_8021Q,
  parseFrame,
  tcpOpt,
  verifyL4,
  type ParsedFrame,
} from '../../harness/codec/index.js';
import { createRng } from '../../harness/codec/random.js';

const SEED = 0x7a11;

function samples(): Buffer[] {
  const vlan = [
    { tpid: ETH_P_8021AD, tci: 10 },
    { tpid: ETH_P_8021Q, tci: 20 },
  ];
  const udp4 = buildUdpFrame({
    family: 4,
    src: '192.0.2.1',
    dst: '192.0.2.2',
    sport: 1,
    dport: 2,
    payload: Buffer.alloc(100, 1),
    ipOptions: Buffer.from([0x94, 4, 0, 0]),
    vlan,
  });
  const udp6 = buildUdpFrame({
    family: 6,
    src: '2001:db8::1',
    dst: '2001:db8::2',
    sport: 1,
    dport: 2,
    payload: Buffer.alloc(100, 2),
    ipv6ExtHeaders: [{ kind: 'hop-by-hop' }, { kind: 'routing' }, { kind: 'destination' }],
  });
  const tcp4 = buildTcpFrame({
    family: 4,
    src: '192.0.2.1',
    dst: '192.0.2.2',
    sport: 1,
    dport: 2,
    options: Buffer.concat([tcpOpt.mss(1400), tcpOpt.wscale(3)]),
    payload: Buffer.alloc(33, 3),
  });
  const tcp6 = buildTcpFrame({
    family: 6,
    src: '2001:db8::1',
    dst: '2001:db8::2',
    sport: 1,
    dport: 2,
    options: tcpOpt.timestamps(5, 6),
    vlan: vlan.slice(1),
  });
  return [udp4, udp6, tcp4, tcp6, ...buildIpv4Fragments(udp4, 48), ...buildIpv6Fragments(udp6, 48)];
}

/** Offsets in a parse must stay inside the buffer. */
function inBounds(p: ParsedFrame): boolean {
  const ends = [p.ip ? p.ip.offset : 0, p.l4 ? p.l4.offset : 0, p.payload ? p.payload.offset + p.payload.length : 0];
  return ends.every((e) => e <= p.length) && (p.payload === undefined || p.payload.length >= 0);
}

describe('parseFrame on truncated and garbage input', () => {
  it('never throws on any prefix of valid frames, and names what was short', () => {
    for (const frame of samples()) {
      const full = parseFrame(frame);
      expect(full.error).toBeUndefined();
      const ipEnd = (full.ip?.offset ?? 0) + (full.ip?.totalLen ?? 0);
      for (let len = 0; len < frame.length; len++) {
        const cut = frame.subarray(0, len);
        const p = parseFrame(cut);
        expect(inBounds(p), `prefix ${len}`).toBe(true);
        // Every prefix shorter than the IP packet is reported, with a layer name.
        if (len < ipEnd) expect(p.error, `prefix ${len} of ${frame.length}`).toMatch(/^(ethernet|vlan|ipv4|ipv6|udp|tcp)/);
        expect(() => verifyL4(cut)).not.toThrow();
        expect(() => checkPartialSeed(cut, 34, 6)).not.toThrow();
      }
    }
  });

  it('names the layer: a cut inside the TCP options is a tcp error', () => {
    const f = buildTcpFrame({ family: 4, src: '192.0.2.1', dst: '192.0.2.2', sport: 1, dport: 2, options: tcpOpt.timestamps(1, 2) });
    const p = parseFrame(f.subarray(0, 14 + 20 + 25));
    expect(p.ip?.family).toBe(4);
    expect(p.error).toMatch(/^ipv4: total length/);
    expect(parseFrame(f.subarray(0, 10)).error).toMatch(/^ethernet: header needs 14 bytes, frame has 10/);
    expect(verifyL4(f.subarray(0, 14 + 20 + 25)).state).toBe('unchecked');
  });

  it('never throws on random garbage, with or without a plausible header', () => {
    const rng = createRng(SEED);
    const heads = [
      Buffer.alloc(0),
      Buffer.from('0200000000020200000000010800', 'hex'),
      Buffer.from('02000000000202000000000186dd', 'hex'),
      Buffer.from('020000000002020000000001810000050800', 'hex'),
    ];
    for (let n = 0; n < 5000; n++) {
      const head = rng.pick(heads);
      let body = rng.bytes(rng.int(0, 200));
      if (head.length >= 14 && rng.bool(0.7)) {
        // Make the IP version nibble and lengths plausible so the deeper layers get exercised.
        body = Buffer.concat([Buffer.from([head.readUInt16BE(head.length - 2) === 0x86dd ? 0x60 : 0x45 + rng.int(0, 10)]), body]);
      }
      const buf = Buffer.concat([head, body]);
      const p = parseFrame(buf);
      expect(inBounds(p), `seed ${SEED} iteration ${n}`).toBe(true);
      const v = verifyL4(buf);
      expect(['good', 'bad', 'absent', 'unchecked']).toContain(v.state);
    }
  });

  it('walks a malformed IPv6 chain without leaving the packet', () => {
    const f = buildUdpFrame({ family: 6, src: '::1', dst: '::2', sport: 1, dport: 2, ipv6ExtHeaders: [{ kind: 'hop-by-hop' }] });
    f[14 + 40 + 1] = 200; // hop-by-hop length far past the end
    const p = parseFrame(f);
    expect(p.error).toMatch(/^ipv6: extension header 0 at offset 54 has length 1608/);
    expect(p.l4).toBeUndefined();
  });

  it('reports a bad IPv4 header length and version', () => {
    const f = buildUdpFrame({ family: 4, src: '192.0.2.1', dst: '192.0.2.2', sport: 1, dport: 2 });
    const g = Buffer.from(f);
    g[14] = 0x44;
    expect(parseFrame(g).error).toMatch(/IHL gives 16 bytes/);
    g[14] = 0x65;
    expect(parseFrame(g).error).toMatch(/expected version 4/);
  });
});
