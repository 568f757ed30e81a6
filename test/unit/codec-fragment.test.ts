import { describe, expect, it } from 'vitest';
import {
  buildIpv4Fragments,
  buildIpv6Fragments,
  buildUdpFrame,
  ETH_P_8021Q,
  ipv4FragmentAt,
  ipv6FragmentAt,
  parseFrame,
  verifyL4,
  type Ipv6ExtSpec,
} from '../../harness/codec/index.js';
import { isNicmatrixError } from '../../harness/codec/errors.js';
import { createRng } from '../../harness/codec/random.js';

const SEED = 0xf4a9;

/** Collects each fragment's data at its offset; returns the bytes, or undefined on a gap. */
function reassemble(frags: Buffer[]): Buffer | undefined {
  const parts = frags.map((f) => {
    const p = parseFrame(f);
    const ip = p.ip;
    if (!ip?.fragment && !(ip && ip.family === 6 && ip.extHeaders.some((h) => h.type === 44))) throw new Error('not a fragment');
    const fh = ip.family === 6 ? ip.extHeaders.find((h) => h.type === 44) : undefined;
    const dataOff = fh ? fh.offset + 8 : ip.offset + ip.hdrLen;
    return { off: ip.fragment?.offset ?? 0, more: ip.fragment?.more ?? false, data: f.subarray(dataOff, ip.offset + ip.totalLen) };
  });
  parts.sort((a, b) => a.off - b.off);
  const last = parts[parts.length - 1]!;
  if (last.more) return undefined;
  const out = Buffer.alloc(last.off + last.data.length);
  let covered = 0;
  for (const p of parts) {
    if (p.off > covered) return undefined;
    p.data.copy(out, p.off);
    covered = Math.max(covered, p.off + p.data.length);
  }
  return out;
}

describe('IPv4 fragments', () => {
  it('cut in order, carry the right offsets and flags, and reassemble to the datagram', () => {
    const rng = createRng(SEED);
    for (let n = 0; n < 60; n++) {
      const payload = rng.bytes(rng.pick([rng.int(0, 100), rng.int(8000, 65000)]));
      const vlan = rng.bool() ? [{ tpid: ETH_P_8021Q, tci: 42 }] : [];
      const ipOptions = rng.bool() ? Buffer.from([0x07, 0x07, 0x04, 0, 0, 0, 0, 0x9e, 0x04, 0xab, 0xcd]) : undefined;
      const dgram = buildUdpFrame({
        family: 4,
        src: '192.0.2.1',
        dst: '192.0.2.2',
        sport: 2049,
        dport: 900,
        payload,
        vlan,
        ipOptions,
        ipv4: { id: 0x4242, df: true },
      });
      const fragSize = rng.int(8, 1480);
      const frags = buildIpv4Fragments(dgram, fragSize);
      const step = Math.floor(fragSize / 8) * 8;
      const dataLen = 8 + payload.length;
      expect(frags.length, `seed ${SEED} iteration ${n}`).toBe(Math.max(1, Math.ceil(dataLen / step)));
      frags.forEach((f, i) => {
        const p = parseFrame(f);
        expect(p.error).toBeUndefined();
        expect(p.vlans.length).toBe(vlan.length);
        const ip = p.ip;
        if (ip?.family !== 4) throw new Error('expected IPv4');
        expect(ip.headerChecksumOk).toBe(true);
        expect(ip.id).toBe(0x4242);
        expect(ip.df).toBe(false);
        const isLast = i === frags.length - 1;
        if (frags.length > 1) expect(ip.fragment).toEqual({ offset: i * step, more: !isLast, id: 0x4242 });
        expect(ip.totalLen - ip.hdrLen).toBe(isLast ? dataLen - i * step : step);
        // Record route (0x07) is not copied; the 0x9e option is.
        const types = ip.options.filter((o) => o.type > 1).map((o) => o.type);
        expect(types).toEqual(ipOptions ? (i === 0 ? [0x07, 0x9e] : [0x9e]) : []);
        if (i > 0) expect(p.l4).toBeUndefined();
      });
      if (frags.length > 1) {
        const whole = reassemble(frags);
        expect(whole?.equals(dgram.subarray(parseFrame(dgram).l4?.offset ?? 0)), `seed ${SEED} iteration ${n}`).toBe(true);
      } else {
        // Data that fits one fragment goes out unfragmented.
        expect(frags[0]).toBeDefined();
        expect(parseFrame(frags[0]!).ip?.fragment).toBeUndefined();
        expect(verifyL4(frags[0]!).state).toBe('good');
      }
    }
  });

  it('ipv4FragmentAt crafts overlapping and tiny fragments', () => {
    const dgram = buildUdpFrame({
      family: 4,
      src: '192.0.2.1',
      dst: '192.0.2.2',
      sport: 1,
      dport: 2,
      payload: Buffer.alloc(64, 7),
      ipv4: { id: 9 },
    });
    const a = ipv4FragmentAt(dgram, 0, 40);
    const b = ipv4FragmentAt(dgram, 32, 40, false, { id: 10 });
    const tiny = ipv4FragmentAt(dgram, 8, 8, true);
    expect(parseFrame(a).ip?.fragment).toEqual({ offset: 0, more: true, id: 9 });
    expect(parseFrame(b).ip?.fragment).toEqual({ offset: 32, more: false, id: 10 });
    expect(parseFrame(tiny).ip?.fragment).toEqual({ offset: 8, more: true, id: 9 });
    expect(reassemble([a, b])?.length).toBe(72);
    const err = (() => {
      try {
        ipv4FragmentAt(dgram, 4, 8);
      } catch (e) {
        return e;
      }
    })();
    expect(isNicmatrixError(err, 'CODEC')).toBe(true);
    expect(() => ipv4FragmentAt(dgram, 64, 16)).toThrow(/within the 72 fragmentable bytes/);
    expect(() => buildIpv4Fragments(dgram, 7)).toThrow(/at least 8/);
    expect(() => buildIpv4Fragments(a, 16)).toThrow(/already a fragment/);
  });
});

describe('IPv6 fragments', () => {
  const chains: Ipv6ExtSpec[][] = [
    [],
    [{ kind: 'hop-by-hop' }],
    [{ kind: 'hop-by-hop' }, { kind: 'destination' }, { kind: 'routing' }, { kind: 'destination', options: Buffer.alloc(10) }],
    [{ kind: 'destination' }],
  ];

  it('keep the per-fragment headers, fragment the rest, and reassemble to the datagram', () => {
    const rng = createRng(SEED + 1);
    for (let n = 0; n < 60; n++) {
      const chain = rng.pick(chains);
      const payload = rng.bytes(rng.pick([rng.int(0, 100), rng.int(8000, 64000)]));
      const dgram = buildUdpFrame({
        family: 6,
        src: '2001:db8::1',
        dst: '2001:db8::2',
        sport: 2049,
        dport: 900,
        payload,
        ipv6ExtHeaders: chain,
      });
      const dp = parseFrame(dgram);
      const ip0 = dp.ip;
      if (ip0?.family !== 6) throw new Error('expected IPv6');
      // Per-fragment part: up to the last hop-by-hop or routing header (RFC 8200 4.5).
      const lastUnfrag =
        chain.map((c) => c.kind).lastIndexOf('routing') >= 0
          ? chain.map((c) => c.kind).lastIndexOf('routing')
          : chain[0]?.kind === 'hop-by-hop'
            ? 0
            : -1;
      const unfragTypes = ip0.extHeaders.slice(0, lastUnfrag + 1).map((h) => h.type);
      const fragStart = lastUnfrag >= 0 ? ip0.extHeaders[lastUnfrag]!.offset + ip0.extHeaders[lastUnfrag]!.length : ip0.offset + 40;
      const fragmentable = dgram.subarray(fragStart);
      const fragSize = rng.int(8, 1400);
      const step = Math.floor(fragSize / 8) * 8;
      const frags = buildIpv6Fragments(dgram, fragSize, { id: 0xdeadbeef });
      expect(frags.length).toBe(Math.max(1, Math.ceil(fragmentable.length / step)));
      frags.forEach((f, i) => {
        const p = parseFrame(f);
        expect(p.error, `seed ${SEED + 1} iteration ${n} fragment ${i}`).toBeUndefined();
        const ip = p.ip;
        if (ip?.family !== 6) throw new Error('expected IPv6');
        const types = ip.extHeaders.map((h) => h.type);
        expect(types.slice(0, unfragTypes.length)).toEqual(unfragTypes);
        expect(types[unfragTypes.length]).toBe(44);
        const isLast = i === frags.length - 1;
        expect(ip.fragment).toMatchObject({ offset: i * step, more: !isLast, id: 0xdeadbeef });
        if (i === 0) expect(ip.proto).toBe(17);
      });
      const whole = reassemble(frags);
      expect(whole?.equals(fragmentable), `seed ${SEED + 1} iteration ${n}`).toBe(true);
      // The reassembled datagram (per-fragment headers + data) is the original one, checksum good.
      expect(verifyL4(dgram).state).toBe('good');
    }
  });

  it('ipv6FragmentAt sets the fragment header and the payload length', () => {
    const dgram = buildUdpFrame({
      family: 6,
      src: '2001:db8::1',
      dst: '2001:db8::2',
      sport: 1,
      dport: 2,
      payload: Buffer.alloc(100, 1),
      ipv6ExtHeaders: [{ kind: 'hop-by-hop' }],
    });
    const f = ipv6FragmentAt(dgram, 16, 24, true, { id: 77 });
    const p = parseFrame(f);
    expect(p.ip?.family).toBe(6);
    if (p.ip?.family !== 6) return;
    expect(p.ip.payloadLen).toBe(8 + 8 + 24);
    expect(p.ip.fragment).toEqual({ offset: 16, more: true, id: 77, headerOffset: 14 + 40 + 8 });
    expect(p.ip.proto).toBe(17);
    expect(p.l4).toBeUndefined();
    expect(p.payload).toEqual({ offset: 14 + 40 + 8 + 8, length: 24 });
  });
});
