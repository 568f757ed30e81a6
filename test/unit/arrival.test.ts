import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { arrivalCounts, arrivalFaults, lossCounters, overRate, overrunCounters, traceArrivals } from '../../harness/checks/arrival.js';
import { judgeRx } from '../../harness/checks/rx-csum/judge.js';
import { rxOutcome } from '../../harness/checks/rx-csum/outcome.js';
import { planFrames, type RxFlow } from '../../harness/checks/rx-csum/plan.js';
import { decodeCapture } from '../../harness/checks/wire.js';
import { createRng } from '../../harness/codec/random.js';
import { PACKET_OUTGOING } from '../../harness/sys/consts.js';
import { captured } from '../helpers/frames.js';

const flow: RxFlow = {
  family: 4,
  srcMac: '02:00:00:00:00:02',
  dstMac: '02:00:00:00:00:01',
  src: '198.18.0.2',
  dst: '198.18.0.1',
  sport: 31000,
  dport: 21000,
};
const cap = (data: Buffer, pkttype = 0): CapturedFrame => captured(data, { pkttype });
const wire = (frames: Buffer[], pkttype = 0) => decodeCapture(frames.map((f) => cap(f, pkttype)));
const plan = (kinds: ('good' | 'bad-l4' | 'bad-ip')[], seed = 7) =>
  planFrames(
    createRng(seed),
    kinds.map((kind) => ({ kind, flow })),
    kinds.map(() => 64),
  );
/** A copy of `f` with the byte at `at` changed. */
const altered = (f: Buffer, at: number) => {
  const c = Buffer.from(f);
  c[at]! ^= 0xff;
  return c;
};

describe('traceArrivals', () => {
  const p = plan(['good', 'bad-l4', 'bad-ip', 'good', 'good', 'bad-l4']);
  const frames = p.map((x) => x.frame);

  it('tells reached, lost in the DUT, never sent, altered on the way and altered before the peer sent it', () => {
    const t = traceArrivals({
      frames,
      peerOut: wire([frames[0]!, frames[1]!, frames[2]!, altered(frames[4]!, 50), frames[5]!], PACKET_OUTGOING),
      dutIn: wire([frames[0]!, altered(frames[2]!, 40), altered(frames[4]!, 50)]),
      peerDropped: 0,
      dutDropped: 0,
    });
    expect(t).toEqual([
      { arrival: 'reached' },
      { arrival: 'lost' },
      // What arrived is kept: the bytes the DUT had to work with.
      { arrival: 'altered', offsets: [40], got: altered(frames[2]!, 40).subarray(14) },
      { arrival: 'not-sent' },
      { arrival: 'altered-at-peer', offsets: [50], got: altered(frames[4]!, 50).subarray(14) },
      { arrival: 'lost' },
    ]);
    expect(arrivalCounts(t)).toEqual({ reached: 1, lost: 2, altered: 1, 'not-sent': 1, 'altered-at-peer': 1 });
  });

  it('counts copies of a frame sent twice one by one, and calls arrival unproven when a capture lost frames', () => {
    const twice = [frames[0]!, frames[0]!];
    expect(traceArrivals({ frames: twice, peerOut: wire(twice), dutIn: wire([frames[0]!]), peerDropped: 0, dutDropped: 0 })).toEqual([
      { arrival: 'reached' },
      { arrival: 'lost' },
    ]);
    expect(traceArrivals({ frames: [frames[1]!], peerOut: wire([frames[1]!]), dutIn: [], peerDropped: 0, dutDropped: 3 })).toEqual([
      { arrival: 'unproven' },
    ]);
    expect(traceArrivals({ frames: [frames[1]!], peerOut: [], dutIn: [], peerDropped: 1, dutDropped: 0 })).toEqual([
      { arrival: 'unproven' },
    ]);
  });

  it('does not take another frame for an altered copy', () => {
    const other = plan(['good'], 8)[0]!.frame;
    const t = traceArrivals({ frames: [frames[0]!], peerOut: wire([frames[0]!]), dutIn: wire([other]), peerDropped: 0, dutDropped: 0 });
    expect(t).toEqual([{ arrival: 'lost' }]);
  });
});

describe('arrivalFaults', () => {
  it("makes the DUT's losses fails with its counters, and the harness's losses errors", () => {
    const traces = [
      { arrival: 'reached' as const },
      { arrival: 'lost' as const },
      { arrival: 'not-sent' as const },
      { arrival: 'altered' as const, offsets: [14, 15] },
    ];
    const f = arrivalFaults(traces, [0, 1, 2, 3], { rx_dropped: 1 }, { dut: 0, peer: 0 });
    expect(f.map((x) => [x.status, x.kind, x.count, x.frames])).toEqual([
      ['fail', 'altered', 1, [3]],
      ['fail', 'lost', 1, [1]],
      ['error', 'not-sent', 1, [2]],
    ]);
    expect(f[0]!.detail).toBe("reached the DUT's capture with bytes the peer did not send (frame 3 differs at offsets 14, 15)");
    expect(f[1]!.detail).toMatch(/lost inside the DUT \(rx_dropped \+1\)$/);
    // Frames that did not have to arrive are not faults.
    expect(arrivalFaults(traces, [0], {}, { dut: 0, peer: 0 })).toEqual([]);
  });
});

describe('arrivalFaults: whose loss', () => {
  const traces = [{ arrival: 'lost' as const }, { arrival: 'lost' as const }, { arrival: 'reached' as const }];
  const none = { dut: 0, peer: 0 };

  it("calls frames lost after the peer's tap set-up loss when only the peer's transmit path counted as many drops (a tap queue to a slow guest)", () => {
    const f = arrivalFaults(traces, [0, 1, 2], {}, none, { 'link.tx_dropped': 2 });
    expect(f).toMatchObject([{ status: 'error', kind: 'lost', count: 2 }]);
    expect(f[0]!.detail).toMatch(/its own transmit path dropped as many \(link\.tx_dropped \+2\): set-up loss/);
  });

  it("keeps them the DUT's when its own counters rose too, or the peer's counted fewer", () => {
    expect(arrivalFaults(traces, [0, 1, 2], { rx_dropped: 2 }, none, { 'link.tx_dropped': 2 })[0]!.status).toBe('fail');
    expect(arrivalFaults(traces, [0, 1, 2], {}, none, { 'link.tx_dropped': 1 })[0]!.status).toBe('fail');
  });

  it("calls frames the DUT's own receive-overrun counters account for dropped under load: not wrong data, not a pass", () => {
    // pcnet under TCG: the guest cannot empty its RX ring as fast as the tap fills it, and says so.
    const f = arrivalFaults(traces, [0, 1, 2], { rx_missed_errors: 2, 'ethtool.rx_missed': 2 }, none);
    expect(f).toMatchObject([{ status: 'error', kind: 'lost', count: 2 }]);
    expect(f[0]!.detail).toMatch(
      /the DUT dropped them under load: its own receive-overrun counters rose by as many \(rx_missed_errors \+2, ethtool\.rx_missed \+2\)/,
    );
    // Fewer overruns than frames lost, or only a generic drop counter: the rest is the DUT's, a fail.
    expect(arrivalFaults(traces, [0, 1, 2], { rx_missed_errors: 1 }, none)[0]!.status).toBe('fail');
    expect(arrivalFaults(traces, [0, 1, 2], { rx_dropped: 5 }, none)[0]!.status).toBe('fail');
    expect(arrivalFaults(traces, [0, 1, 2], { rx_fifo_errors: 2 }, none)[0]!.status).toBe('error');
  });
});

describe('lossCounters', () => {
  it('keeps the loss counters of one direction that rose, whatever the driver calls them', () => {
    const delta = {
      rx_missed_errors: 3,
      rx_no_buffer_count: 2,
      'link.rx_dropped': 1,
      'link.rx_over_errors': 0,
      rx_queue_0_drops: 4,
      tx_queue_0_drops: 5,
      'link.tx_dropped': 6,
      rx_packets: 100,
      rx_lost_in_ring: 7,
    };
    expect(lossCounters(delta, 'rx')).toEqual({
      rx_missed_errors: 3,
      rx_no_buffer_count: 2,
      'link.rx_dropped': 1,
      rx_queue_0_drops: 4,
      rx_lost_in_ring: 7,
    });
    expect(lossCounters(delta, 'tx')).toEqual({ tx_queue_0_drops: 5, 'link.tx_dropped': 6 });
  });
});

describe('judgeRx with arrival proof: a rightly dropped frame must have arrived', () => {
  const p = plan(['good', 'bad-l4', 'bad-ip']);
  const base = {
    planned: p,
    sent: [1, 1, 1],
    delivered: [{ family: 4 as const, payload: p[0]!.payload, from: flow.src, port: flow.sport }],
    captured: wire([p[0]!.frame]),
    counters: {},
  };

  it('would have passed without the proof; now the bad frames that never left the peer make it an error', () => {
    expect(judgeRx(base).faults).toEqual([]);
    const traces = [{ arrival: 'reached' as const }, { arrival: 'not-sent' as const }, { arrival: 'not-sent' as const }];
    const t = judgeRx({ ...base, arrivals: { traces, must: [0, 1, 2], dutLoss: {}, captureDropped: { dut: 0, peer: 0 } } });
    const o = rxOutcome('IPv4 UDP', t, p, {});
    expect(o.status).toBe('error');
    expect(o.message).toBe(
      'IPv4 UDP: 2 frame(s) (IPv4 bad-l4, IPv4 bad-ip) never left the peer (not on its egress capture): set-up loss, the DUT was not judged on them',
    );
  });

  it('is a fail when they left the peer and never reached the DUT, naming its loss counters', () => {
    const traces = [{ arrival: 'reached' as const }, { arrival: 'lost' as const }, { arrival: 'reached' as const }];
    const t = judgeRx({
      ...base,
      captured: wire([p[0]!.frame, p[2]!.frame]),
      counters: { IpInHdrErrors: 1 },
      arrivals: { traces, must: [0, 1, 2], dutLoss: { rx_dropped: 1 }, captureDropped: { dut: 0, peer: 0 } },
    });
    const o = rxOutcome('IPv4 UDP', t, p, {});
    expect(o.status).toBe('fail');
    expect(o.message).toBe(
      "IPv4 UDP: 1 frame(s) (IPv4 bad-l4) left the peer intact but never reached the DUT's capture: lost inside the DUT (rx_dropped +1)",
    );
  });

  it('a good frame delivered needs no capture to prove it arrived', () => {
    const traces = [{ arrival: 'unproven' as const }, { arrival: 'reached' as const }, { arrival: 'reached' as const }];
    const t = judgeRx({
      ...base,
      captured: wire([p[1]!.frame, p[2]!.frame]),
      counters: { UdpInCsumErrors: 1, IpInHdrErrors: 1 },
      arrivals: { traces, must: [0, 1, 2], dutLoss: {}, captureDropped: { dut: 2, peer: 0 } },
    });
    expect(t.faults).toEqual([]);
  });
});

describe('overRate', () => {
  it("marks frames that left less than half their predecessor's wire time after it, and never without a rate or across captures", () => {
    const f = Buffer.alloc(1514);
    const at = (tsNs: number[]) => decodeCapture(tsNs.map((t) => ({ ...cap(f), tsNs: t })));
    // 1514 bytes at 10 Mb/s occupy 1230.4 µs of wire.
    const frames = at([0, 1_300_000, 1_500_000, 3_000_000, 100]);
    expect(overRate(frames, 10)).toEqual([false, false, true, false, false]);
    expect(overRate(frames, null)).toEqual([false, false, false, false, false]);
  });
});

describe('overrunCounters', () => {
  it('keeps the receive-overrun counters of a side (driver and link.), not generic drops nor the transmit side', () => {
    const c = {
      rx_fifo: 3,
      'link.rx_missed_errors': 3,
      'link.rx_over_errors': 0,
      rx_no_buffer_count: 1,
      'link.rx_dropped': 9,
      'link.tx_fifo_errors': 2,
      rx_packets: 100,
    };
    expect(overrunCounters(c)).toEqual({ rx_fifo: 3, 'link.rx_missed_errors': 3, 'link.rx_over_errors': 0, rx_no_buffer_count: 1 });
  });
});
