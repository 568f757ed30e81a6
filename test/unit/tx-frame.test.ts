import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { buildUdpFrame } from '../../harness/codec/index.js';
import { judgePadding } from '../../harness/checks/tx-frame/judge.js';
import { decodeCapture } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const flow = { family: 4 as const, src: '198.18.0.1', dst: '198.18.0.2', sport: 30000, dport: 20000 };
const cap = (data: Buffer): CapturedFrame => captured(data);
const short = (n: number) => buildUdpFrame({ ...flow, payload: Buffer.alloc(n, 0x11) });
const padTo60 = (f: Buffer, fill = 0) => Buffer.concat([f, Buffer.alloc(60 - f.length, fill)]);

describe('judgePadding', () => {
  it('passes zero padding and unpadded short frames, and counts them apart', () => {
    const t = judgePadding(decodeCapture([cap(padTo60(short(3))), cap(short(4)), cap(short(40))]));
    expect(t).toMatchObject({ short: 2, padded: 1, unpadded: 1, faults: [] });
  });

  it('names every leaked byte with its offset', () => {
    const f = padTo60(short(2));
    f[58] = 0xde;
    f[59] = 0xad;
    const t = judgePadding(decodeCapture([cap(f)]));
    expect(t.faults.map((x) => x.reason)).toEqual(['non-zero padding after the 30-byte IP packet at byte(s) 58:0xde, 59:0xad']);
  });

  it('a frame longer than padding allows is a wrong length, not a padding verdict', () => {
    const t = judgePadding(decodeCapture([cap(Buffer.concat([short(40), Buffer.alloc(30)]))]));
    expect(t.faults.map((x) => x.reason)).toEqual([expect.stringMatching(/^wrong length/)]);
  });
});
