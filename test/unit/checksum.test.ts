import { describe, expect, it } from 'vitest';
import {
  checksum,
  fold,
  l4Checksum,
  onesSum,
  partialSeed,
  pseudoSumV4,
  pseudoSumV6,
  sameOnesComplement,
  updateChecksum16,
  updateChecksumBytes,
  udpTransmitted,
} from '../../harness/codec/checksum.js';
import { ipv4ToBytes, ipv6ToBytes } from '../../harness/codec/addr.js';
import { createRng } from '../../harness/codec/random.js';

const SEED = 0x5eed1071;

/** Reference A: big-endian words as BigInt, folded only at the end. */
function refSumBE(buf: Uint8Array, start: number, end: number): bigint {
  let s = 0n;
  for (let i = start; i < end; i += 2) s += (BigInt(buf[i]!) << 8n) | BigInt(i + 1 < end ? buf[i + 1]! : 0);
  while (s >> 16n) s = (s & 0xffffn) + (s >> 16n);
  return s;
}

/** Reference B (RFC 1071 2.B, byte-order independence): sum little-endian words, swap the folded result. */
function refSumSwapped(buf: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) {
    s += buf[i]! | ((i + 1 < end ? buf[i + 1]! : 0) << 8);
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return ((s & 0xff) << 8) | (s >> 8);
}

function refChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return Number(~refSumBE(buf, start, end) & 0xffffn);
}

describe('onesSum / fold / checksum (RFC 1071)', () => {
  it('matches the RFC 1071 worked example', () => {
    const b = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(onesSum(b)).toBe(0x2ddf0);
    expect(fold(onesSum(b))).toBe(0xddf2);
    expect(checksum(b)).toBe(0x220d);
  });

  it('agrees with two independent formulations on random buffers, lengths 0..9000 and offsets', () => {
    const rng = createRng(SEED);
    for (let n = 0; n < 400; n++) {
      const len = n < 20 ? n : rng.int(0, 9000);
      const buf = rng.bytes(len);
      const start = len === 0 ? 0 : rng.int(0, len);
      const end = rng.int(start, len);
      const ctx = `seed ${SEED} iteration ${n} len ${len} [${start},${end})`;
      expect(fold(onesSum(buf, start, end)), ctx).toBe(Number(refSumBE(buf, start, end)));
      expect(fold(onesSum(buf, start, end)), ctx).toBe(refSumSwapped(buf, start, end));
      expect(checksum(buf, start, end), ctx).toBe(refChecksum(buf, start, end));
    }
  });

  it('adds an initial sum like a concatenation of even-length pieces', () => {
    const rng = createRng(SEED + 1);
    for (let n = 0; n < 100; n++) {
      const buf = rng.bytes(rng.int(0, 3000));
      const cut = rng.int(0, buf.length >> 1) * 2;
      expect(checksum(buf, cut, buf.length, onesSum(buf, 0, cut))).toBe(checksum(buf));
    }
  });

  it('pads an odd trailing byte with a zero low byte', () => {
    expect(onesSum(Buffer.from([0xab]))).toBe(0xab00);
    expect(onesSum(Buffer.from([0x12, 0x34, 0x56]))).toBe(0x1234 + 0x5600);
  });

  it('keeps the accumulator within 32 bits on very large sums', () => {
    const big = Buffer.alloc(200_000, 0xff);
    const s = onesSum(big, 0, big.length, 0xffffffff);
    expect(s).toBeLessThanOrEqual(0xffffffff);
    expect(fold(s)).toBe(0xffff);
  });

  it('fold-to-zero: data summing to 0xFFFF checksums to 0, all-zero data to 0xFFFF', () => {
    expect(checksum(Buffer.from([0xff, 0xff]))).toBe(0);
    expect(checksum(Buffer.from([0x12, 0x34, 0xed, 0xcb]))).toBe(0);
    expect(checksum(Buffer.alloc(64))).toBe(0xffff);
    expect(checksum(Buffer.alloc(0))).toBe(0xffff);
    // -0 and +0: 0xFFFF + 0xFFFF folds to 0xFFFF, never to 0.
    expect(fold(0xffff + 0xffff)).toBe(0xffff);
  });

  it('rejects out-of-range slices', () => {
    expect(() => onesSum(Buffer.alloc(4), 2, 1)).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'CODEC' }));
    expect(() => onesSum(Buffer.alloc(4), 0, 5)).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'CODEC' }));
  });
});

describe('pseudo-headers and l4Checksum', () => {
  it('IPv4 and IPv6 pseudo-header sums equal the sum of the explicit pseudo-header bytes', () => {
    const rng = createRng(SEED + 2);
    for (let n = 0; n < 100; n++) {
      const len = rng.int(0, 70000);
      const proto = rng.pick([6, 17, 58, rng.int(0, 255)]);
      const s4 = Array.from(rng.bytes(4)).join('.');
      const d4 = Array.from(rng.bytes(4)).join('.');
      const ph4 = Buffer.concat([ipv4ToBytes(s4), ipv4ToBytes(d4), Buffer.from([0, proto, (len >> 8) & 0xff, len & 0xff])]);
      expect(fold(pseudoSumV4(s4, d4, proto, len & 0xffff))).toBe(Number(refSumBE(ph4, 0, 12)));
      const s6 = rng.bytes(16);
      const d6 = rng.bytes(16);
      const ph6 = Buffer.alloc(40);
      s6.copy(ph6, 0);
      d6.copy(ph6, 16);
      ph6.writeUInt32BE(len, 32);
      ph6[39] = proto;
      expect(fold(pseudoSumV6(s6, d6, len, proto))).toBe(Number(refSumBE(ph6, 0, 40)));
    }
  });

  it('l4Checksum equals the reference over pseudo-header + segment, with the UDP zero rule', () => {
    const rng = createRng(SEED + 3);
    for (let n = 0; n < 200; n++) {
      const l4 = rng.bytes(rng.int(20, 2000));
      const proto = rng.pick([6, 17]);
      l4.writeUInt16BE(0, proto === 6 ? 16 : 6);
      const src = '2001:db8::' + rng.int(1, 0xffff).toString(16);
      const dst = 'fe80::' + rng.int(1, 0xffff).toString(16);
      const ph = Buffer.alloc(40);
      ipv6ToBytes(src).copy(ph, 0);
      ipv6ToBytes(dst).copy(ph, 16);
      ph.writeUInt32BE(l4.length, 32);
      ph[39] = proto;
      const ref = refChecksum(Buffer.concat([ph, l4]));
      expect(l4Checksum(6, src, dst, proto, l4)).toBe(proto === 17 && ref === 0 ? 0xffff : ref);
    }
  });

  it('a UDP checksum that computes to 0 is transmitted as 0xFFFF; TCP keeps 0', () => {
    // Two adjustable payload bytes make the whole sum 0xFFFF, so the computed checksum is 0.
    const l4 = Buffer.alloc(12);
    l4.writeUInt16BE(1234, 0);
    l4.writeUInt16BE(5678, 2);
    l4.writeUInt16BE(12, 4);
    const s = fold(onesSum(l4, 0, 12, pseudoSumV4('198.51.100.1', '198.51.100.2', 17, 12)));
    l4.writeUInt16BE(0xffff - s, 8);
    expect(checksum(l4, 0, 12, pseudoSumV4('198.51.100.1', '198.51.100.2', 17, 12))).toBe(0);
    expect(l4Checksum(4, '198.51.100.1', '198.51.100.2', 17, l4)).toBe(0xffff);
    expect(udpTransmitted(6, 0)).toBe(0);
    expect(udpTransmitted(17, 0)).toBe(0xffff);
    expect(udpTransmitted(17, 0x1234)).toBe(0x1234);
  });

  it('partialSeed is the folded, non-complemented pseudo-header sum', () => {
    // Seen on this machine: the kernel's UDP seed for 192.0.2.1 -> 192.0.2.2, length 18 (codec-known.test.ts).
    expect(partialSeed(4, '192.0.2.1', '192.0.2.2', 17, 18)).toBe(0x8427);
    expect(partialSeed(6, '2001:db8::1', '2001:db8::2', 6, 40)).toBe(0x5ba3);
  });
});

describe('incremental update (RFC 1624)', () => {
  it('updateChecksum16 equals recomputation after changing one aligned word', () => {
    const rng = createRng(SEED + 4);
    for (let n = 0; n < 300; n++) {
      const buf = rng.bytes(rng.int(1, 700) * 2);
      const hc = checksum(buf);
      const at = rng.int(0, buf.length / 2 - 1) * 2;
      const m = buf.readUInt16BE(at);
      const m2 = rng.pick([0, 0xffff, m, rng.int(0, 0xffff)]);
      buf.writeUInt16BE(m2, at);
      expect(updateChecksum16(hc, m, m2), `seed ${SEED + 4} iteration ${n}`).toBe(checksum(buf));
    }
  });

  it('updateChecksumBytes equals recomputation after random byte edits at odd and even offsets', () => {
    const rng = createRng(SEED + 5);
    for (let n = 0; n < 500; n++) {
      const buf = rng.bytes(rng.int(1, 9000));
      let hc = checksum(buf);
      for (let k = rng.int(1, 4); k > 0; k--) {
        const at = rng.int(0, buf.length - 1);
        const len = rng.int(0, Math.min(64, buf.length - at));
        const old = Buffer.from(buf.subarray(at, at + len));
        const neu = rng.bool(0.2) ? Buffer.alloc(len, rng.pick([0, 0xff])) : rng.bytes(len);
        neu.copy(buf, at);
        hc = updateChecksumBytes(hc, at, old, neu);
      }
      expect(hc, `seed ${SEED + 5} iteration ${n}`).toBe(checksum(buf));
    }
  });

  it("an edit that zeroes every byte gives a ones'-complement-equal result", () => {
    const buf = Buffer.from([0x12, 0x34, 0x56]);
    const hc = checksum(buf);
    const zero = updateChecksumBytes(hc, 0, Buffer.from(buf), Buffer.alloc(3));
    expect(sameOnesComplement(zero, checksum(Buffer.alloc(3)))).toBe(true);
    expect(sameOnesComplement(0, 0xffff)).toBe(true);
    expect(sameOnesComplement(1, 0xffff)).toBe(false);
  });

  it('rejects edits of different lengths', () => {
    expect(() => updateChecksumBytes(0, 0, Buffer.alloc(2), Buffer.alloc(3))).toThrow(
      expect.objectContaining({ name: 'NicmatrixError', code: 'CODEC' }),
    );
  });
});
