import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { buildUdpFrame, partialOffsets } from '../../harness/codec/index.js';
import { judgeExact } from '../../harness/checks/tx-csum/exact.js';
import { accountDelivered, judgeChecksums } from '../../harness/checks/tx-csum/judge.js';
import { attributeLoss } from '../../harness/checks/tx-csum/loss.js';
import { txOutcome } from '../../harness/checks/tx-csum/outcome.js';
import { decodeCapture } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const flow = { family: 4 as const, src: '198.18.0.1', dst: '198.18.0.2', sport: 30000, dport: 20000 };
const cap = (data: Buffer): CapturedFrame => captured(data);
const frame = (n: number) => buildUdpFrame({ ...flow, payload: Buffer.alloc(n, 0x5a), checksum: 'partial' });
const sentOf = (f: Buffer) => ({ frame: f, ...partialOffsets(f)! });
const noLoss = { captureDropped: 0, peerNstat: {}, peerDriver: {} };

describe('the peer socket is part of a transmit verdict', () => {
  it('counts datagrams the socket never got, altered ones, and a wrong source', () => {
    const sent = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')];
    const r = accountDelivered(
      sent,
      [
        { payload: Buffer.from('a'), from: '198.18.0.1', port: 30000 },
        { payload: Buffer.from('x'), from: '198.18.0.1', port: 30000 },
        { payload: Buffer.from('c'), from: '198.18.0.9', port: 30000 },
      ],
      { addr: '198.18.0.1', port: 30000 },
    );
    expect(r).toMatchObject({ missing: 1, unexpected: 1, wrongSource: 1 });
  });

  it('a flow whose frames all look right but whose socket got a fraction does not pass (would have passed before)', () => {
    const frames = decodeCapture([cap(buildUdpFrame({ ...flow, payload: Buffer.from('hello') }))]);
    const loss = attributeLoss({ sent: 1, missingOnWire: 0, missingAtSocket: 1, ...noLoss });
    const { outcome } = txOutcome({
      what: 'x',
      sent: 1,
      tally: judgeChecksums(frames, 'correct'),
      accounting: loss.device,
      frames,
      evidence: {},
    });
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toMatch(/refused by the peer's stack/);
  });
});

describe('whose loss it is', () => {
  it("frames missing with no harness-side drop are the device's, with the count", () => {
    expect(attributeLoss({ sent: 100, missingOnWire: 90, missingAtSocket: 0, ...noLoss })).toEqual({
      device: ['90 of 100 datagrams never arrived on the wire'],
      setup: [],
    });
  });
  it('frames missing while the peer dropped frames itself are set-up loss: an error, never a pass or a fail', () => {
    const loss = attributeLoss({
      sent: 100,
      missingOnWire: 3,
      missingAtSocket: 2,
      captureDropped: 3,
      peerNstat: { UdpRcvbufErrors: 2 },
      peerDriver: {},
    });
    expect(loss.device).toEqual([]);
    expect(loss.setup).toHaveLength(2);
    const frames = decodeCapture([cap(buildUdpFrame({ ...flow, payload: Buffer.from('hello') }))]);
    const { outcome } = txOutcome({
      what: 'x',
      sent: 100,
      tally: judgeChecksums(frames, 'correct'),
      accounting: [],
      setupLoss: loss.setup,
      frames,
      evidence: {},
    });
    expect(outcome.status).toBe('error');
    expect(outcome.message).toMatch(/set-up loss/);
  });
  it('a device fault wins over set-up loss', () => {
    const bad = buildUdpFrame({ ...flow, payload: Buffer.from('hello'), checksum: 0x1234 });
    const frames = decodeCapture([cap(bad)]);
    const { outcome } = txOutcome({
      what: 'x',
      sent: 2,
      tally: judgeChecksums(frames, 'correct'),
      accounting: [],
      setupLoss: ['lost one'],
      frames,
      evidence: {},
    });
    expect(outcome.status).toBe('fail');
  });
  it("a peer port drop counter that rose makes wire loss the set-up's", () => {
    expect(
      attributeLoss({
        sent: 10,
        missingOnWire: 1,
        missingAtSocket: 0,
        captureDropped: 0,
        peerNstat: {},
        peerDriver: { rx_missed_errors: 1 },
      }).setup,
    ).toHaveLength(1);
  });
});

describe('hand-made frames: lengths judged byte for byte', () => {
  it('a truncated frame is named as truncated, and counted once (not also missing)', () => {
    const f = frame(100);
    const { tally, missing } = judgeExact([sentOf(f)], decodeCapture([cap(f.subarray(0, 90))]));
    expect(tally.faults.map((x) => x.reason)).toEqual([expect.stringMatching(/^truncated: 90 of the 142 bytes/)]);
    expect(missing).toBe(0);
  });
  it('a frame with bytes appended past the minimum frame is a wrong length, not padding (would have passed before)', () => {
    const f = frame(100);
    const s = sentOf(f);
    const completed = Buffer.from(f);
    const { tally } = judgeExact([s], decodeCapture([cap(Buffer.concat([completed, Buffer.alloc(8)]))]));
    expect(tally.faults.map((x) => x.reason)).toEqual([expect.stringMatching(/^wrong length: 150 bytes arrived for a 142-byte frame/)]);
  });
});
