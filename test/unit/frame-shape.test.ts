import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { buildTcpFrame, buildUdpFrame } from '../../harness/codec/index.js';
import { frameShapeFault } from '../../harness/checks/frame-shape.js';
import { judgeChecksums } from '../../harness/checks/tx-csum/judge.js';
import { decodeCapture, TP_STATUS_CSUMNOTREADY } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const flow = { family: 4 as const, src: '198.18.0.1', dst: '198.18.0.2', sport: 30000, dport: 20000 };
const cap = (data: Buffer, status = 0, len = data.length): CapturedFrame => captured(data, { status, len });
const wire = (data: Buffer, status = 0, len?: number) => decodeCapture([cap(data, status, len)])[0]!;
const udp = (n: number, checksum?: 'partial') => buildUdpFrame({ ...flow, payload: Buffer.alloc(n, 0x61), checksum });

describe('frameShapeFault', () => {
  it('accepts a sound frame, and zero padding up to the minimum frame', () => {
    expect(frameShapeFault(wire(udp(100)))).toBeUndefined();
    expect(frameShapeFault(wire(Buffer.concat([udp(4), Buffer.alloc(60 - udp(4).length)])))).toBeUndefined();
  });

  it('names a truncated frame, but not a capture cut by its own snap length', () => {
    const f = udp(100);
    expect(frameShapeFault(wire(f.subarray(0, f.length - 10)))?.kind).toBe('truncated');
    expect(frameShapeFault(wire(f.subarray(0, f.length - 10), 0, f.length))).toBeUndefined();
  });

  it('names bytes past the IP packet in a frame longer than padding makes', () => {
    const fault = frameShapeFault(wire(Buffer.concat([udp(100), Buffer.alloc(6)])));
    expect(fault?.kind).toBe('wrong-length');
    expect(fault?.reason).toMatch(/6 bytes follow/);
  });

  it('names a wrong IPv4 header checksum with the expected value', () => {
    const f = udp(20);
    f[14 + 10]! ^= 0x01;
    expect(frameShapeFault(wire(f))?.reason).toMatch(/IPv4 header checksum 0x[0-9a-f]{4} is wrong, expected 0x[0-9a-f]{4}/);
  });

  it('names a UDP length field that disagrees with the IP length', () => {
    const f = udp(40);
    f.writeUInt16BE(8 + 30, 14 + 20 + 4);
    expect(frameShapeFault(wire(f))?.kind).toBe('udp-length');
  });

  it('leaves TCP without a length field alone', () => {
    const f = buildTcpFrame({ ...flow, payload: Buffer.alloc(10), seq: 1, ack: 1, flags: 0x18, window: 100 });
    expect(frameShapeFault(wire(f))).toBeUndefined();
  });
});

describe('a CHECKSUM_PARTIAL frame is judged on lengths that agree (would have passed before)', () => {
  it('a partial frame with a correct seed for its IP length but a shrunk UDP length fails', () => {
    const f = udp(40, 'partial');
    f.writeUInt16BE(8 + 30, 14 + 20 + 4);
    const t = judgeChecksums([wire(f, TP_STATUS_CSUMNOTREADY)], 'correct');
    expect(t.faults.map((x) => x.reason)).toEqual([expect.stringMatching(/UDP length field 38 disagrees/)]);
  });

  it('a complete frame carrying extra bytes after its IP packet fails as a wrong length, not a checksum', () => {
    const t = judgeChecksums([wire(Buffer.concat([udp(200), Buffer.from('leak')]))], 'correct');
    expect(t.faults.map((x) => x.reason)).toEqual([expect.stringMatching(/^wrong length/)]);
  });
});
