/**
 * CRC32c and SCTP: known answers from RFC 3720 B.4 (iSCSI, whose CRC32c is
 * SCTP's: RFC 3309) with the CRC bytes in the order the RFC shows them on the
 * wire, the standard check value, and build/parse round trips.
 */
import { describe, expect, it } from 'vitest';
import {
  buildSctpChunk,
  buildSctpFrame,
  buildSctpPacket,
  crc32c,
  parseSctp,
  parseSctpInit,
  sctpChecksum,
  sctpDataValue,
  sctpInitValue,
  sctpParams,
  SCTP_CSUM_OFFSET,
  SCTP_DATA,
  SCTP_INIT,
  verifySctpFrame,
} from '../../harness/codec/index.js';
import { createRng } from '../../harness/codec/random.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** The CRC as the RFC lists its bytes (first byte on the wire first). */
const wire = (crc: number): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(crc);
  return b.toString('hex');
};

describe('crc32c known answers', () => {
  it('RFC 3720 B.4: 32 zeros, 32 x 0xff, incrementing, decrementing', () => {
    expect(wire(crc32c(Buffer.alloc(32, 0)))).toBe('aa36918a');
    expect(wire(crc32c(Buffer.alloc(32, 0xff)))).toBe('43aba862');
    expect(wire(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))))).toBe('4e79dd46');
    expect(wire(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))))).toBe('5cdb3f11');
  });

  it('RFC 3720 B.4: an iSCSI read command PDU', () => {
    const pdu = hex(`01 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 00 14 00 00 00 00 00 04 00 00 00 00 14 00 00 00 18
      28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00`);
    expect(wire(crc32c(pdu))).toBe('563a96d9');
  });

  it('the CRC-32C check value of "123456789" is 0xe3069283', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('continues across pieces', () => {
    const rng = createRng(7);
    for (let i = 0; i < 50; i++) {
      const b = rng.bytes(rng.int(0, 300));
      const cut = rng.int(0, b.length);
      expect(crc32c(b, cut, b.length, crc32c(b, 0, cut))).toBe(crc32c(b));
    }
  });
});

describe('sctp packets', () => {
  it('the checksum is the CRC32c with the field zeroed, stored least significant byte first', () => {
    const pkt = buildSctpPacket({
      sport: 5000,
      dport: 5001,
      vtag: 0,
      chunks: [{ type: SCTP_INIT, value: sctpInitValue({ initiateTag: 0x01020304, initialTsn: 9 }) }],
    });
    const zeroed = Buffer.from(pkt);
    zeroed.fill(0, SCTP_CSUM_OFFSET, SCTP_CSUM_OFFSET + 4);
    expect(pkt.subarray(SCTP_CSUM_OFFSET, SCTP_CSUM_OFFSET + 4).toString('hex')).toBe(wire(crc32c(zeroed)));
    // The field's own value never matters to the sum.
    expect(sctpChecksum(pkt)).toBe(crc32c(zeroed));
  });

  it('round-trips chunks, padding and INIT fields', () => {
    const rng = createRng(11);
    for (let i = 0; i < 100; i++) {
      const data = rng.bytes(rng.int(0, 1400));
      const init = { initiateTag: rng.u32(), initialTsn: rng.u32(), arwnd: rng.u32(), outStreams: 3, inStreams: 4 };
      const pkt = buildSctpPacket({
        sport: rng.int(1, 65535),
        dport: rng.int(1, 65535),
        vtag: rng.u32(),
        chunks: [
          { type: SCTP_INIT, value: sctpInitValue(init) },
          { type: SCTP_DATA, flags: 3, value: sctpDataValue(rng.u32(), 1, 2, 51, data) },
        ],
      });
      expect(pkt.length % 4).toBe(0);
      const p = parseSctp(pkt, 0, pkt.length);
      expect(p.error).toBeUndefined();
      expect(p.sctp!.checksum).toBe(sctpChecksum(pkt));
      expect(p.sctp!.chunks.map((c) => [c.type, c.length])).toEqual([
        [SCTP_INIT, 20],
        [SCTP_DATA, 16 + 16 + data.length - 16 + 0],
      ]);
      expect(parseSctpInit(p.sctp!.chunks[0]!.value)).toMatchObject(init);
      expect(p.sctp!.chunks[1]!.value.subarray(12).equals(data)).toBe(true);
    }
  });

  it('parses INIT parameters and reports a chunk that runs past the packet', () => {
    const params = Buffer.concat([
      buildSctpChunk({ type: 0, value: Buffer.from([1, 2, 3]) }),
      buildSctpChunk({ type: 0, value: Buffer.alloc(4, 9) }),
    ]);
    expect(sctpParams(params).map((p) => p.value.toString('hex'))).toEqual(['010203', '09090909']);
    const pkt = buildSctpPacket({ sport: 1, dport: 2, vtag: 3, chunks: [{ type: SCTP_DATA, value: Buffer.alloc(20) }] });
    expect(parseSctp(pkt, 0, pkt.length - 4).error).toMatch(/length 24, 20 bytes left/);
    expect(parseSctp(pkt, 0, 8).error).toMatch(/needs 12 bytes/);
  });
});

describe('sctp frames', () => {
  it.each([4, 6] as const)('IPv%i: a built frame verifies good; 0, an internet checksum or any bit flip is bad', (family) => {
    const rng = createRng(family);
    const addrs = family === 4 ? { src: '192.0.2.1', dst: '192.0.2.2' } : { src: '2001:db8::1', dst: '2001:db8::2' };
    for (let i = 0; i < 30; i++) {
      const spec = {
        family,
        ...addrs,
        sport: 5000,
        dport: 6000,
        vtag: rng.u32(),
        chunks: [{ type: SCTP_DATA, flags: 3, value: sctpDataValue(i, 0, i, 0, rng.bytes(rng.int(1, 1000))) }],
      };
      const f = buildSctpFrame(spec);
      const v = verifySctpFrame(f);
      expect(v.state).toBe('good');
      expect(verifySctpFrame(buildSctpFrame({ ...spec, checksum: 'zero' })).state).toBe('bad');
      const flipped = Buffer.from(f);
      const at = v.offset! + rng.int(0, f.length - v.offset! - 1);
      flipped[at]! ^= 1 << rng.int(0, 7);
      expect(verifySctpFrame(flipped).state).toBe('bad');
    }
  });

  it('a frame that is not SCTP, or truncated, is unchecked', () => {
    const f = buildSctpFrame({ family: 4, src: '192.0.2.1', dst: '192.0.2.2', sport: 1, dport: 2, vtag: 0, chunks: [] });
    expect(verifySctpFrame(f.subarray(0, f.length - 2)).state).toBe('unchecked');
    expect(verifySctpFrame(Buffer.alloc(60)).state).toBe('unchecked');
  });
});
