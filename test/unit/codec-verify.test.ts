import { describe, expect, it } from 'vitest';
import { fold, onesSum, pseudoSumV4, pseudoSumV6 } from '../../harness/codec/checksum.js';
import {
  buildTcpFrame,
  buildUdpFrame,
  checkPartialSeed,
  completePartial,
  ETH_P_8021Q,
  parseFrame,
  partialOffsets,
  verifyL4,
  type IpFrameSpec,
} from '../../harness/codec/index.js';
import { createRng, type Rng } from '../../harness/codec/random.js';

const SEED = 0x0ff10ad;

function randomSpec(rng: Rng): IpFrameSpec & { sport: number; dport: number } {
  const family = rng.pick([4, 6] as const);
  const common = {
    sport: rng.int(1, 65535),
    dport: rng.int(1, 65535),
    payload: rng.bytes(rng.int(0, 3000)),
    vlan: rng.bool() ? [{ tpid: ETH_P_8021Q, tci: rng.int(0, 0xffff) }] : [],
  };
  if (family === 4) {
    return {
      ...common,
      family,
      src: `10.${rng.int(0, 255)}.0.1`,
      dst: `10.0.${rng.int(0, 255)}.2`,
      ipOptions: rng.bool() ? Buffer.from([1, 1, 1, 0]) : undefined,
    };
  }
  return {
    ...common,
    family,
    src: `fd00::${rng.int(1, 0xffff).toString(16)}`,
    dst: `fd00:1::${rng.int(1, 0xffff).toString(16)}`,
    ipv6ExtHeaders: rng.bool() ? [{ kind: 'destination' }] : [],
  };
}

/** A UDP frame whose checksum computes to 0: the last two payload bytes absorb the difference. */
function zeroSumUdp(family: 4 | 6): Buffer {
  const spec = {
    family,
    src: family === 4 ? '192.0.2.7' : '2001:db8::7',
    dst: family === 4 ? '192.0.2.8' : '2001:db8::8',
    sport: 4242,
    dport: 2424,
  };
  const payload = Buffer.from('zero-sum!!');
  payload.writeUInt16BE(0, 8);
  const l4 = Buffer.concat([Buffer.from([0x10, 0x92, 0x09, 0x78, 0, 18, 0, 0]), payload]);
  const ps = family === 4 ? pseudoSumV4(spec.src, spec.dst, 17, 18) : pseudoSumV6(spec.src, spec.dst, 18, 17);
  payload.writeUInt16BE(0xffff - fold(onesSum(l4, 0, l4.length, ps)), 8);
  return buildUdpFrame({ ...spec, payload });
}

describe('verifyL4', () => {
  it('accepts correct frames and rejects any single corrupted payload byte', () => {
    const rng = createRng(SEED);
    for (let n = 0; n < 300; n++) {
      const spec = randomSpec(rng);
      const frame = rng.bool() ? buildUdpFrame(spec) : buildTcpFrame(spec);
      expect(verifyL4(frame).state, `seed ${SEED} iteration ${n}`).toBe('good');
      const p = parseFrame(frame);
      if (!p.payload || p.payload.length === 0) continue;
      const bad = Buffer.from(frame);
      const at = p.payload.offset + rng.int(0, p.payload.length - 1);
      bad[at]! ^= rng.int(1, 255);
      const v = verifyL4(bad);
      expect(v.state, `seed ${SEED} iteration ${n} byte ${at}`).toBe('bad');
      expect(v.ok).toBe(false);
      expect(v.found).toBe(p.l4?.checksum);
      expect(v.expected).not.toBe(v.found);
      // The expected value repairs the frame.
      bad.writeUInt16BE(v.expected, p.l4?.checksumOffset ?? 0);
      expect(verifyL4(bad).state).toBe('good');
    }
  });

  it('UDP sum that folds to zero: built as 0xFFFF, and a 0 means "absent" on IPv4, "bad" on IPv6', () => {
    for (const family of [4, 6] as const) {
      const frame = zeroSumUdp(family);
      const p = parseFrame(frame);
      expect(p.l4?.checksum).toBe(0xffff);
      expect(verifyL4(frame)).toMatchObject({ ok: true, state: 'good', expected: 0xffff, found: 0xffff });
      const zeroed = Buffer.from(frame);
      zeroed.writeUInt16BE(0, p.l4?.checksumOffset ?? 0);
      const v = verifyL4(zeroed);
      expect(v.expected).toBe(0xffff);
      expect(v.found).toBe(0);
      if (family === 4) expect(v).toMatchObject({ ok: true, state: 'absent' });
      else expect(v).toMatchObject({ ok: false, state: 'bad' });
    }
  });

  it('checksum modes: zero, literal value', () => {
    const base = { family: 4 as const, src: '192.0.2.1', dst: '192.0.2.2', sport: 7, dport: 9, payload: Buffer.from('abc') };
    expect(verifyL4(buildUdpFrame({ ...base, checksum: 'zero' })).state).toBe('absent');
    expect(verifyL4(buildTcpFrame({ ...base, checksum: 'zero' })).state).toBe('bad');
    const lit = buildUdpFrame({ ...base, checksum: 0x1234 });
    expect(parseFrame(lit).l4?.checksum).toBe(0x1234);
    expect(verifyL4(lit).state).toBe('bad');
  });

  it('does not judge fragments, non-IP frames or protocols without a checksum', () => {
    const f = buildUdpFrame({ family: 4, src: '192.0.2.1', dst: '192.0.2.2', sport: 1, dport: 2, ipv4: { mf: true } });
    expect(verifyL4(f)).toMatchObject({ state: 'unchecked', ok: false });
    expect(verifyL4(Buffer.from('ffffffffffff0200000000010806' + '00'.repeat(28), 'hex'))).toMatchObject({
      state: 'unchecked',
      kind: 'none',
    });
  });

  it('checks ICMPv4 without and ICMPv6 with a pseudo-header', () => {
    // Echo request: type 8 code 0, checksum over the ICMP message only.
    const icmp = Buffer.from([8, 0, 0, 0, 0, 1, 0, 1, 0x61, 0x62]);
    icmp.writeUInt16BE(~fold(onesSum(icmp)) & 0xffff, 2);
    const f4 = buildUdpFrame({ family: 4, src: '192.0.2.1', dst: '192.0.2.2', sport: 0, dport: 0 });
    const ip4 = Buffer.from(f4.subarray(0, 34));
    ip4[14 + 9] = 1;
    ip4.writeUInt16BE(20 + icmp.length, 16);
    ip4.writeUInt16BE(0, 24);
    ip4.writeUInt16BE(~fold(onesSum(ip4, 14, 34)) & 0xffff, 24);
    expect(verifyL4(Buffer.concat([ip4, icmp]))).toMatchObject({ state: 'good', kind: 'ipv4-icmp' });
  });
});

describe('CHECKSUM_PARTIAL', () => {
  it('a frame built with the seed passes checkPartialSeed, and completing it equals the correct frame', () => {
    const rng = createRng(SEED + 1);
    for (let n = 0; n < 300; n++) {
      const spec = randomSpec(rng);
      const tcp = rng.bool();
      const partial = tcp ? buildTcpFrame({ ...spec, checksum: 'partial' }) : buildUdpFrame({ ...spec, checksum: 'partial' });
      const correct = tcp ? buildTcpFrame(spec) : buildUdpFrame(spec);
      const off = partialOffsets(partial);
      expect(off).toBeDefined();
      if (!off) continue;
      const seed = checkPartialSeed(partial, off.csumStart, off.csumOffset);
      expect(seed.ok, `seed ${SEED + 1} iteration ${n}`).toBe(true);
      expect(seed.found).toBe(seed.expected);
      const done = completePartial(partial, off.csumStart, off.csumOffset);
      expect(done.equals(correct), `seed ${SEED + 1} iteration ${n}`).toBe(true);
      expect(verifyL4(done).state).toBe('good');
      // A fully checksummed frame is not a partial one.
      expect(checkPartialSeed(correct, off.csumStart, off.csumOffset).ok).toBe(false);
    }
  });

  it('completePartial leaves padding out when told where the packet ends', () => {
    const spec = { family: 4 as const, src: '192.0.2.1', dst: '192.0.2.2', sport: 1, dport: 2, payload: Buffer.from('x') };
    const padded = buildUdpFrame({ ...spec, checksum: 'partial', padTo: 60 });
    padded.fill(0x5a, 43);
    const p = parseFrame(padded);
    const ipEnd = (p.ip?.offset ?? 0) + (p.ip?.totalLen ?? 0);
    const done = completePartial(padded, 34, 6, { end: ipEnd });
    expect(verifyL4(done).state).toBe('good');
    expect(verifyL4(completePartial(padded, 34, 6)).state).toBe('bad');
  });

  it('completePartial writes 0xFFFF for a zero result unless told not to', () => {
    const buf = Buffer.from([0xff, 0xff, 0x00, 0x00]);
    expect(completePartial(buf, 0, 2).readUInt16BE(2)).toBe(0xffff);
    expect(completePartial(buf, 0, 2, { mangleZero: false }).readUInt16BE(2)).toBe(0);
    expect(() => completePartial(buf, 2, 2)).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'CODEC' }));
  });

  it('explains offsets that do not point at the L4 checksum', () => {
    const f = buildUdpFrame({ family: 6, src: '::1', dst: '::2', sport: 1, dport: 2, checksum: 'partial' });
    expect(checkPartialSeed(f, 54, 4)).toMatchObject({ ok: false, reason: expect.stringMatching(/do not point/) });
    expect(checkPartialSeed(f, 60, 6)).toMatchObject({ ok: false, reason: expect.stringMatching(/exceeds/) });
  });
});
