import { describe, expect, it } from 'vitest';
import { parseFrame, verifyL4, type IpFamily } from '../../harness/codec/index.js';
import {
  arrange,
  fragmentsOf,
  makeDatagram,
  MAX_FRAGMENT_FRAME,
  maxFragSize,
  overlapping,
  withoutOne,
  type FragDatagram,
  type FragFlow,
} from '../../harness/checks/frag/plan.js';
import { createRng } from '../../harness/codec/random.js';

const flow = (family: IpFamily): FragFlow => ({
  family,
  srcMac: '02:00:00:00:00:02',
  dstMac: '02:00:00:00:00:01',
  src: family === 4 ? '198.18.0.2' : '2001:db8::2',
  dst: family === 4 ? '198.18.0.1' : '2001:db8::1',
  sport: 31000,
  dport: 21000,
});

/** What a receiver holds of one fragment: its id, byte range, data, and whether more follow. */
function piece(frame: Buffer) {
  const p = parseFrame(frame);
  const ip = p.ip!;
  const start = ip.offset + ip.hdrLen;
  return {
    id: ip.fragment!.id,
    offset: ip.fragment!.offset,
    more: ip.fragment!.more,
    data: frame.subarray(start, ip.offset + ip.totalLen),
  };
}

/** A reference reassembler: first copy of each byte wins; returns the UDP payload, or why it cannot. */
function reassemble(frames: Buffer[]): Buffer | string {
  const pieces = frames.map(piece);
  const end = pieces.find((x) => !x.more);
  if (!end) return 'no last fragment';
  const out = Buffer.alloc(end.offset + end.data.length);
  const have = new Uint8Array(out.length);
  for (const x of pieces) {
    for (let i = 0; i < x.data.length; i++) {
      if (!have[x.offset + i]) out[x.offset + i] = x.data[i]!;
      have[x.offset + i] = 1;
    }
  }
  if (have.includes(0)) return `hole at ${have.indexOf(0)}`;
  return out.subarray(8);
}

/** Buffer equality as one boolean: vitest's deep diff of kilobyte buffers is slow. */
const same = (a: Buffer | string, b: Buffer) => expect(typeof a !== 'string' && a.equals(b)).toBe(true);

describe('fragment plans', () => {
  it('sizes fragments to the MTU, and keeps crafted frames small on a 64 KiB loopback', () => {
    expect(maxFragSize(4, 1500)).toBe(1480);
    expect(maxFragSize(6, 1500)).toBe(1448);
    expect(maxFragSize(4, 65536)).toBe(1480);
    expect(maxFragSize(4, 1280)).toBe(1256);
  });

  it.each([4, 6] as const)('IPv%i: cuts a datagram into fragments that fit and reassemble to its payload', (family) => {
    const rng = createRng(family);
    const d = makeDatagram(rng, flow(family), 0, 8192, maxFragSize(family, 1500));
    const frags = fragmentsOf(d);
    expect(frags.length).toBe(6);
    expect(frags.every((f) => f.length <= MAX_FRAGMENT_FRAME)).toBe(true);
    expect(new Set(frags.map((f) => piece(f).id))).toEqual(new Set([d.id]));
    same(reassemble(frags), d.payload);
    expect(verifyL4(d.frame).state).toBe('good');
  });

  it.each([4, 6] as const)('IPv%i: never gives two datagrams of one case the same ID (they would be reassembled together)', (family) => {
    const first = makeDatagram(createRng(5), flow(family), 0, 3000, 1000);
    const used = new Set([first.id]);
    const second = makeDatagram(createRng(5), flow(family), 1, 3000, 1000, 'correct', used);
    expect(second.id).not.toBe(first.id);
    expect(piece(fragmentsOf(second)[0]!).id).toBe(second.id);
    expect(used).toEqual(new Set([first.id, second.id]));
  });

  it('makes datagrams with a bad or an absent checksum on request', () => {
    const rng = createRng(1);
    expect(verifyL4(makeDatagram(rng, flow(4), 0, 3000, 1000, 'bad').frame).state).toBe('bad');
    expect(verifyL4(makeDatagram(rng, flow(6), 0, 3000, 1000, 'bad').frame).state).toBe('bad');
    expect(verifyL4(makeDatagram(rng, flow(4), 0, 3000, 1000, 'zero').frame).state).toBe('absent');
    expect(makeDatagram(rng, flow(4), 0, 3000, 1000, 'bad').expect).toBe('drop');
  });
});

describe('arrange', () => {
  const rng = createRng(11);
  const ds: FragDatagram[] = [0, 1, 2].map((i) => makeDatagram(rng, flow(4), i, 4000 + 1000 * i, 1000));
  const sets = ds.map(fragmentsOf);
  const hex = (b: Buffer[]) => b.map((x) => x.toString('hex'));

  it('in order, reversed, and shuffled across datagrams: every fragment once', () => {
    expect(hex(arrange(rng, ds, 'in-order'))).toEqual(hex(sets.flat()));
    expect(hex(arrange(rng, ds, 'reverse'))).toEqual(hex(sets.flatMap((s) => [...s].reverse())));
    const shuffled = arrange(createRng(2), ds, 'shuffled');
    expect(hex(shuffled).sort()).toEqual(hex(sets.flat()).sort());
    expect(hex(shuffled)).not.toEqual(hex(sets.flat()));
  });

  it('duplicates: at least one copy per datagram, every copy before the fragment that completes it', () => {
    for (let seed = 0; seed < 30; seed++) {
      const out = arrange(createRng(seed), ds, 'duplicate');
      let at = 0;
      for (const s of sets) {
        // Datagrams go one after the other; each run ends with a fragment seen there for the first time.
        const run = out.slice(at, at + out.length).filter((f) => piece(f).id === piece(s[0]!).id);
        const mine = out.slice(at, at + run.length);
        expect(mine.length).toBe(run.length);
        expect(mine.length).toBeGreaterThan(s.length);
        expect(new Set(hex(mine))).toEqual(new Set(hex(s)));
        const last = mine[mine.length - 1]!;
        expect(mine.slice(0, -1).some((f) => f.equals(last))).toBe(false);
        same(reassemble(mine), ds[sets.indexOf(s)]!.payload);
        at += mine.length;
      }
      expect(at).toBe(out.length);
    }
  });
});

describe('withoutOne', () => {
  it('leaves one fragment out, so no reassembly completes', () => {
    const d = makeDatagram(createRng(3), flow(6), 0, 5000, 1200);
    const { frames, missing } = withoutOne(createRng(4), d);
    expect(frames.length).toBe(fragmentsOf(d).length - 1);
    expect(hex1(frames)).not.toContain(fragmentsOf(d)[missing]!.toString('hex'));
    expect(reassemble(frames)).toMatch(/hole|no last/);
  });
  const hex1 = (b: Buffer[]) => b.map((x) => x.toString('hex'));
});

describe('overlapping', () => {
  it.each([4, 6] as const)('IPv%i: fragment k starts inside fragment k-1, 8-byte aligned, within the frame limit', (family) => {
    for (let seed = 0; seed < 20; seed++) {
      const rng = createRng(seed);
      const fragSize = maxFragSize(family, 1500) - 32;
      const d = makeDatagram(rng, flow(family), 0, 6000, fragSize);
      const o = overlapping(rng, d, true);
      const pieces = o.frames.map(piece);
      expect(pieces.every((p) => p.offset % 8 === 0)).toBe(true);
      expect(pieces.slice(0, -1).every((p) => p.data.length % 8 === 0 && p.more)).toBe(true);
      expect(pieces.at(-1)!.more).toBe(false);
      expect(o.frames.every((f) => f.length <= MAX_FRAGMENT_FRAME)).toBe(true);
      const k = pieces.findIndex((p) => p.offset === o.at);
      expect(k).toBeGreaterThan(0);
      expect(pieces[k - 1]!.offset + pieces[k - 1]!.data.length - o.at).toBe(o.bytes);
      // First copy wins: the original; last copy wins: the original with the overlap replaced.
      same(reassemble(o.frames), d.payload);
      const [first, last] = d.readings!;
      expect(first).toBeDefined();
      expect(last).toBeDefined();
      same(first!, d.payload);
      expect(last!.length).toBe(d.payload.length);
      same(last!.subarray(0, o.at - 8), d.payload.subarray(0, o.at - 8));
      same(last!.subarray(o.at - 8 + o.bytes), d.payload.subarray(o.at - 8 + o.bytes));
      expect(last!.equals(first!)).toBe(false);
    }
  });

  it('with the same bytes in the overlap there is one reading, the original', () => {
    const rng = createRng(5);
    const d = makeDatagram(rng, flow(6), 0, 6000, 1000);
    overlapping(rng, d, false);
    expect(d.readings).toEqual([d.payload]);
  });

  it('refuses a datagram too short to overlap inside', () => {
    const rng = createRng(5);
    expect(() => overlapping(rng, makeDatagram(rng, flow(4), 0, 1000, 1000), true)).toThrow(/at least 3 fragments/);
  });
});
