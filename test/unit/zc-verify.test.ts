import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DatagramMatcher } from '../../harness/codec/zc/datagrams.js';
import { streamFaults } from '../../harness/checks/zc/judge.js';
import { fillExpected, fillFile, fillGeneration, GEN_KEYS, type StreamSpec } from '../../harness/codec/zc/pattern.js';
import { BlockAttributor, decodeMasks, encodeMasks, ExactVerifier } from '../../harness/codec/zc/verify.js';
import { createRng } from '../../harness/codec/random.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function expectedStream(spec: StreamSpec, length: number): Buffer {
  const b = Buffer.alloc(length);
  fillExpected(b, spec, 0);
  return b;
}

/** Feeds `data` in random chunk sizes, as recv() would hand it over. */
function feed(v: { update(c: Buffer): void }, data: Buffer, seed = 1): void {
  const rng = createRng(seed);
  for (let i = 0; i < data.length;) {
    const n = Math.min(data.length - i, rng.int(1, 200_000));
    v.update(Buffer.from(data.subarray(i, i + n)));
    i += n;
  }
}

const spec: StreamSpec = { file: { seed: 11, size: 600_000, holes: [[100_000, 150_000]] }, offset: 4095, count: 500_000 };

describe('ExactVerifier', () => {
  it('accepts the exact stream in any chunking; its SHA-256 is that of the received bytes', () => {
    const data = expectedStream(spec, 500_000);
    for (const seed of [1, 2, 3]) {
      const v = new ExactVerifier(spec);
      feed(v, data, seed);
      const r = v.finish();
      expect(r).toEqual({ bytes: 500_000, expected: 500_000, sha256: sha(data), wrongBytes: 0 });
      expect(streamFaults('s', r)).toEqual([]);
    }
  });

  it('names the first differing offset and counts wrong bytes; the hash is still of what arrived', () => {
    const data = expectedStream(spec, 500_000);
    data[300_001]! ^= 0x40;
    data[300_010]! ^= 0x01;
    data[499_999]! ^= 0xff;
    const v = new ExactVerifier(spec);
    feed(v, data);
    const r = v.finish();
    expect(r.mismatch?.offset).toBe(300_001);
    expect(r.wrongBytes).toBe(3);
    expect(r.sha256).toBe(sha(data));
    expect(r.mismatch?.found.slice(0, 2)).toBe(data.subarray(300_001, 300_002).toString('hex'));
    expect(streamFaults('whole 1MiB', r)).toEqual([
      expect.stringMatching(/^whole 1MiB: 3 byte\(s\) differ, first at offset 300001 \(expected [0-9a-f]{32}, found [0-9a-f]{32}\)$/),
    ]);
  });

  it('a short stream and a long one are faults, an empty expected stream passes empty', () => {
    const data = expectedStream(spec, 500_000);
    const short = new ExactVerifier(spec);
    feed(short, data.subarray(0, 123_456));
    expect(streamFaults('s', short.finish())).toEqual(['s: the peer received 123456 of 500000 bytes']);
    const long = new ExactVerifier(spec);
    feed(long, Buffer.concat([data, Buffer.from('xyz')]));
    expect(streamFaults('s', long.finish())).toEqual(['s: the peer received 500003 bytes, 3 more than the 500000 sent']);
    const empty = new ExactVerifier({ file: { seed: 1, size: 0 }, offset: 0, count: 0 });
    expect(empty.finish()).toEqual({ bytes: 0, expected: 0, sha256: sha(Buffer.alloc(0)), wrongBytes: 0 });
  });

  it('a repeated stream must repeat the range, not continue the file', () => {
    const rep: StreamSpec = { file: { seed: 2, size: 10_000 }, offset: 0, count: 10_000, repeat: 2 };
    const file = Buffer.alloc(10_000);
    fillFile(file, rep.file, 0);
    const ok = new ExactVerifier(rep);
    feed(ok, Buffer.concat([file, file]));
    expect(ok.finish().mismatch).toBeUndefined();
  });
});

describe('BlockAttributor', () => {
  const size = 64 * 1024;
  const s: StreamSpec = { file: { seed: 21, size }, offset: 0, count: size };
  const block = (b: number, gen: number) => {
    const out = Buffer.alloc(1024);
    fillGeneration(out, 21, b * 1024, gen);
    return out;
  };

  it('records per block which generations arrived, whole or torn mid-block', () => {
    const data = expectedStream(s, size);
    block(3, 5).copy(data, 3 * 1024);
    const torn = block(7, 9);
    torn.copy(data, 7 * 1024, 0, 500);
    block(7, 2).copy(data, 7 * 1024 + 500, 500);
    const a = new BlockAttributor(s, 1024);
    feed(a, data);
    const r = a.finish();
    expect(r.foreign).toBe(0);
    expect(r.masks[0]).toBe(1);
    expect(r.masks[3]).toBe(1 << 5);
    expect(r.masks[7]).toBe((1 << 9) | (1 << 2));
    expect(r.bytes).toBe(size);
  });

  it('counts bytes that are no generation, with their offsets', () => {
    const data = expectedStream(s, size);
    data[5000]! ^= 0x01;
    data[6000]! ^= GEN_KEYS[3]! ^ 0x80;
    const a = new BlockAttributor(s, 1024);
    feed(a, data);
    const r = a.finish();
    expect(r.foreign).toBe(2);
    expect(r.firstForeign.map((f) => f.offset)).toEqual([5000, 6000]);
  });

  it('block masks survive the RPC text form', () => {
    const m = new Uint32Array([1, 0x8000_0001, 0, 0xffff_ffff]);
    expect(Array.from(decodeMasks(encodeMasks(m)))).toEqual(Array.from(m));
    expect(() => decodeMasks(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/multiple of 4 bytes, found 3/);
  });
});

describe('DatagramMatcher', () => {
  const layout = { seed: 31, size: 1400 * 10 + 100 };
  it('accepts datagrams in order, counts the ones lost before a later arrival, and the tail', () => {
    const m = new DatagramMatcher(layout, 1400);
    expect(m.expected(10)).toHaveLength(100);
    for (const k of [0, 1, 4, 5, 6]) m.push(m.expected(k));
    expect(m.finish()).toMatchObject({ received: 5, matched: 5, lost: 2 + 4, wrong: 0 });
  });

  it('a datagram with one altered byte is wrong, with the offset in the stream', () => {
    const m = new DatagramMatcher(layout, 1400);
    m.push(m.expected(0));
    const bad = m.expected(1);
    bad[17]! ^= 4;
    m.push(bad);
    m.push(m.expected(2));
    const t = m.finish();
    expect(t).toMatchObject({ matched: 2, wrong: 1 });
    expect(t.mismatch?.offset).toBe(1400 + 17);
  });
});
