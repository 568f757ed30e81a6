import { describe, expect, it } from 'vitest';
import { LARGE_FLOOR, LARGE_SIZE, planLargeSize, smallCases, smallFiles } from '../../harness/checks/zc/cases.js';
import { callRanges, combineModes, tallyCompletions } from '../../harness/codec/zc/completions.js';
import { honouredOutcome, judgeMutation, peerCounterFaults, transferFaults } from '../../harness/checks/zc/judge.js';
import { blocksWithin, CompletionFrontier, MAX_WRITES_PER_BLOCK, planWrites, WriteLog } from '../../harness/codec/zc/mutation.js';
import { POISON } from '../../harness/codec/zc/pattern.js';
import type { AttributionResult } from '../../harness/codec/zc/verify.js';
import { udpDatagramSize, zerocopyLengths } from '../../harness/checks/zc/zerocopy-plan.js';
import { createRng } from '../../harness/codec/random.js';

describe('MSG_ZEROCOPY completions', () => {
  it('every call once, contiguous: no faults; honoured, copied and mixed told apart', () => {
    expect(
      tallyCompletions(5, [
        { lo: 0, hi: 2, copied: false },
        { lo: 3, hi: 4, copied: false },
      ]),
    ).toMatchObject({ faults: [], zerocopy: 'honoured', inOrder: true, notifications: 2, completedCalls: 5 });
    expect(tallyCompletions(3, [{ lo: 0, hi: 2, copied: true }]).zerocopy).toBe('copied');
    expect(
      tallyCompletions(3, [
        { lo: 0, hi: 0, copied: true },
        { lo: 1, hi: 2, copied: false },
      ]),
    ).toMatchObject({ zerocopy: 'mixed', copiedCalls: 1, zerocopyCalls: 2 });
    expect(tallyCompletions(0, []).zerocopy).toBe('none');
  });

  it('a missing, a doubled and an out-of-range completion are faults; out-of-order is recorded, not a fault', () => {
    const t = tallyCompletions(6, [
      { lo: 2, hi: 3, copied: false },
      { lo: 0, hi: 0, copied: false },
      { lo: 3, hi: 3, copied: false },
      { lo: 6, hi: 7, copied: false },
      { lo: 4, hi: 2, copied: false },
    ]);
    expect(t.inOrder).toBe(false);
    expect(t.faults).toEqual([
      'a notification completes calls 6..7, but only 6 send calls were made',
      'a notification carries the range 4..2: expected lo ≤ hi, both ≥ 0',
      '1 send call(s) completed more than once: 3',
      '3 of 6 send call(s) never completed: 1, 4-5',
    ]);
    expect(
      tallyCompletions(2, [
        { lo: 1, hi: 1, copied: false },
        { lo: 0, hi: 0, copied: false },
      ]),
    ).toMatchObject({ faults: [], inOrder: false });
  });

  it('call ranges are compact and capped', () => {
    expect(callRanges([1, 2, 3, 7, 9, 10])).toBe('1-3, 7, 9-10');
    expect(callRanges([0, 2, 4, 6, 8, 10, 12, 14], 3)).toBe('0, 2, 4, …');
  });

  it('modes of several sockets combine; sockets with no completion do not count', () => {
    expect(combineModes(['honoured', 'none', 'honoured'])).toBe('honoured');
    expect(combineModes(['copied', 'copied'])).toBe('copied');
    expect(combineModes(['copied', 'honoured'])).toBe('mixed');
    expect(combineModes(['none'])).toBe('none');
  });
});

describe('zc/msg-zerocopy-honoured verdict', () => {
  const base = {
    calls: 10,
    copiedCalls: 10,
    deliveryFaults: [] as string[],
    sgActive: true,
    fullSegments: { ok: true, planned: 1448, actual: [1448] },
  };
  it('pass only when honoured and delivered; the copy policy of local delivery and taps is a skip that names it', () => {
    expect(honouredOutcome({ ...base, mode: 'honoured', copiedCalls: 0 }).status).toBe('pass');
    expect(honouredOutcome({ ...base, mode: 'copied', localDelivery: 'the veth driver' })).toEqual({
      status: 'skip',
      message:
        '10 of 10 MSG_ZEROCOPY send calls were copied: the veth driver delivers to a local socket, and the kernel copies every zero-copy frame looped to a local socket (msg_zerocopy.rst, "Loopback"): a kernel policy, not a property of the device',
    });
    expect(
      honouredOutcome({ ...base, mode: 'mixed', copiedCalls: 2, taps: "1 packet socket(s) (ETH_P_ALL, inode 7) tap the DUT's interface" }),
    ).toMatchObject({
      status: 'skip',
      message: expect.stringMatching(
        /^2 of 10 .* while 1 packet socket\(s\) .* tap the DUT's interface: the kernel copies every zero-copy frame it hands to a tap/,
      ),
    });
  });

  it('unsupported only when ethtool shows SG not active', () => {
    expect(honouredOutcome({ ...base, mode: 'copied', sgActive: false })).toMatchObject({
      status: 'unsupported',
      message: expect.stringMatching(/scatter-gather is not active on the device \(ethtool/),
    });
  });

  it('copies of full-sized segments with SG on are a fail; copies after an unplanned MSS cannot be judged', () => {
    expect(honouredOutcome({ ...base, mode: 'mixed', copiedCalls: 3 })).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^3 of 10 .* every TCP send was whole full-sized segments: the driver copied/),
    });
    expect(
      honouredOutcome({ ...base, mode: 'mixed', copiedCalls: 1, fullSegments: { ok: false, planned: 1448, actual: [1460] } }),
    ).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/the TCP MSS was 1460, not the planned 1448/),
    });
    expect(honouredOutcome({ ...base, mode: 'none' }).status).toBe('fail');
  });

  it('would have passed (or been unsupported) before: wrong bytes now fail whatever the copy state', () => {
    const bad = { ...base, deliveryFaults: ['TCP/IPv4 17 sends, 1107720 bytes: 1 byte(s) differ, first at offset 68'] };
    expect(honouredOutcome({ ...bad, mode: 'honoured', copiedCalls: 0 })).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^the sends were not delivered intact: TCP\/IPv4 .* first at offset 68$/),
    });
    expect(honouredOutcome({ ...bad, mode: 'copied', localDelivery: 'the veth driver' }).status).toBe('fail');
  });
});

describe('peer counter faults', () => {
  it('each broken-frame counter has its own message; IpInHdrErrors names only what is not a checksum error', () => {
    expect(peerCounterFaults({})).toEqual([]);
    expect(peerCounterFaults({ IpExtInCsumErrors: 3, IpInHdrErrors: 3 })).toEqual([
      '3 frame(s) with a wrong IPv4 header checksum reached the peer (IpExtInCsumErrors +3)',
    ]);
    expect(peerCounterFaults({ IpExtInTruncatedPkts: 2 })).toEqual([
      '2 truncated IPv4 frame(s) (shorter than their total length) reached the peer (IpExtInTruncatedPkts +2)',
    ]);
    expect(peerCounterFaults({ IpInHdrErrors: 4, IpExtInCsumErrors: 1 })).toEqual([
      '1 frame(s) with a wrong IPv4 header checksum reached the peer (IpExtInCsumErrors +1)',
      '3 IPv4 frame(s) with a malformed header (length fields, version or header length) reached the peer (IpInHdrErrors +4)',
    ]);
    expect(peerCounterFaults({ TcpInCsumErrors: 2 })).toEqual([
      '2 TCP segment(s) with a wrong checksum reached the peer (TcpInCsumErrors +2)',
    ]);
  });

  it('retransmissions are bounded by the shared judge: what the old storm rule let pass now fails', () => {
    // 4 MiB with 40 retransmissions in 3000 segments: under max(50, 10 %), so the old rule passed it.
    const t = transferFaults('MSG_ZEROCOPY over TCP', 4 << 20, {
      dut: { TcpRetransSegs: 40, TcpOutSegs: 3000, TcpExtTCPLostRetransmit: 1 },
      peer: {},
    });
    expect(t.retransmits).toMatchObject({ ok: false, found: 40, bound: 10 });
    expect(t.faults).toEqual([
      "MSG_ZEROCOPY over TCP: TCP retransmitted 40 segment(s) over 4194304 bytes (4 MiB): expected fewer than 10 lost, found 40 (tso.py's 10 per 4 MiB, scaled); no count from the receiving socket (TCPLostRetransmit 1)",
    ]);
    expect(transferFaults('x', 64 << 20, { dut: { TcpRetransSegs: 159 }, peer: {} }).faults).toEqual([]);
  });

  it("losses the receiver's own counters account for are reported, not judged; a DUT's TX drops count only when it delivers locally", () => {
    const c = {
      dut: { TcpRetransSegs: 60, TcpOutSegs: 3000 },
      peer: { TcpExtTCPBacklogDrop: 5 },
      dutLink: { tx_packets: 100, tx_dropped: 1 },
      peerLink: { rx_dropped: 0, rx_missed_errors: 1 },
    };
    // 3000 segments in 100 frames: each dropped frame carried 30 segments.
    const veth = transferFaults('x', 4 << 20, c, true);
    expect(veth.receiverDropSegs).toBe(2 * 30 + 5);
    expect(veth.retransmits).toMatchObject({ ok: true, lost: 60, atReceiver: 60, deviceLost: 0 });
    expect(veth.retransmits.message).toMatch(/60 more lost in the receiver's own queues, per its counters: the harness's capacity/);
    // A real NIC's own TX drops are its own: only the peer's rx_missed and backlog drops are excused.
    const nic = transferFaults('x', 4 << 20, c, false);
    expect(nic.receiverDropSegs).toBe(30 + 5);
    expect(nic.retransmits).toMatchObject({ ok: false, deviceLost: 25 });
  });
});

describe('mutation bookkeeping', () => {
  it('blocks wholly inside a range, the last block of a file may be short', () => {
    expect(blocksWithin(0, 4096, 1024, 10_000)).toEqual([0, 1, 2, 3]);
    expect(blocksWithin(100, 4000, 1024, 10_000)).toEqual([1, 2]);
    expect(blocksWithin(9000, 10_000, 1024, 10_000)).toEqual([9]);
  });

  it('codes rotate over 1 … POISON-1; a block takes at most MAX_WRITES_PER_BLOCK writes, none after its poison', () => {
    const log = new WriteLog(4096, 1024);
    const codes = Array.from({ length: POISON }, () => log.nextCode());
    expect(codes[0]).toBe(1);
    expect(codes[POISON - 2]).toBe(POISON - 1);
    expect(codes[POISON - 1]).toBe(1);
    for (let i = 0; i < MAX_WRITES_PER_BLOCK; i++) log.record(0, i + 1);
    expect(log.hasRoom(0)).toBe(false);
    expect(() => log.record(0, 5)).toThrow(/already took 2 writes/);
    log.recordPoison(1);
    expect(log.hasRoom(1)).toBe(false);
    expect(() => log.record(2, POISON)).toThrow(/expected a code 1..30/);
  });

  it('planned writes land on whole blocks of the range and are logged', () => {
    const log = new WriteLog(1 << 20, 1024);
    const w = planWrites(createRng(3), log, 1000, 300_000);
    expect(w.length).toBeGreaterThan(100);
    for (const { block, code } of w) {
      expect(block * 1024).toBeGreaterThanOrEqual(1000);
      expect((block + 1) * 1024).toBeLessThanOrEqual(300_000);
      expect(log.written[block]! & (1 << code)).not.toBe(0);
    }
    expect(log.writes).toBe(w.length);
  });

  it('the completion frontier advances only over a completed prefix of sends', () => {
    const f = new CompletionFrontier();
    f.sent(0, 100);
    f.sent(1, 250);
    f.sent(2, 400);
    f.complete(1, 2);
    expect(f.frontier()).toBe(0);
    f.complete(0, 0);
    expect(f.frontier()).toBe(400);
  });
});

describe('judgeMutation', () => {
  const attribution = (masks: number[], extra: Partial<AttributionResult> = {}): AttributionResult => ({
    bytes: masks.length * 1024,
    expected: masks.length * 1024,
    blockSize: 1024,
    masks: new Uint32Array(masks),
    foreign: 0,
    firstForeign: [],
    ...extra,
  });
  const written = new Uint32Array([0, 1 << 4, (1 << 4) | (1 << 9), 0]);
  const poisoned = new Uint8Array([0, 0, 0, 1]);

  it('own generations, mixed or not, and untouched blocks exact: no fault', () => {
    const m = judgeMutation('w', written, poisoned, attribution([1, 1 << 4, (1 << 9) | 1, 1]));
    expect(m).toEqual({ faults: [], blocksWritten: 2, blocksChangedOnWire: 2, blocksMixed: 1, blocksPoisoned: 1 });
  });

  it('a generation never written there, a changed untouched block, poison on the wire and foreign bytes fail', () => {
    const m = judgeMutation(
      'w',
      written,
      poisoned,
      attribution([1 << 4, 1 << 5, 1, 1 << POISON], { foreign: 3, firstForeign: [{ offset: 77, expected: 'aa', found: 'bb' }] }),
    );
    expect(m.faults).toEqual([
      'w: 3 byte(s) belong to no generation written there, first at offset 77 (generation 0 aa, found bb)',
      'w: a write made after its MSG_ZEROCOPY completion reached the wire in 1 block(s) of 1024 bytes (first at offset 3072)',
      'w: bytes the user never touched changed in 1 block(s) of 1024 bytes (first at offset 0)',
      'w: 1 block(s) of 1024 bytes (first at offset 1024) carry a generation the user never wrote there',
    ]);
  });

  it('missing bytes are a fault', () => {
    expect(judgeMutation('w', written, poisoned, attribution([1, 1, 1, 1], { bytes: 10 })).faults).toEqual([
      'w: the peer received 10 of 4096 bytes',
    ]);
  });
});

describe('plans', () => {
  it('the large file stays 64 MiB on a fast link and shrinks, with the reason, on a slow one or a small DUT', () => {
    expect(planLargeSize(1e9, 8e9)).toEqual({ size: LARGE_SIZE });
    expect(planLargeSize(undefined, 8e9)).toEqual({ size: LARGE_SIZE });
    const slow = planLargeSize(1_000_000, 8e9);
    expect(slow.size).toBe(19 << 20);
    expect(slow.reason).toMatch(/moved 1000000 B\/s: 64 MiB would take 67 s, over the 20 s budget/);
    expect(planLargeSize(10_000, 8e9).size).toBe(LARGE_FLOOR);
    expect(planLargeSize(1e9, 100 << 20)).toMatchObject({ size: 50 << 20, reason: expect.stringMatching(/has 100 MiB available/) });
  });

  it('every case names a file that exists; the 1 MiB whole file comes first', () => {
    const files = smallFiles(1);
    const cases = smallCases();
    expect(cases[0]).toEqual({ name: 'whole 1MiB', file: '1MiB', offset: 0, count: 1 << 20 });
    for (const c of cases) expect(files[c.file]).toBeDefined();
    expect(files.sparse).toBeDefined();
    expect(files.sparse!.holes!.length).toBeGreaterThan(2);
  });

  it('zero-copy send lengths sum to the total, edge sizes first; UDP datagrams fit the MTU', () => {
    const l = zerocopyLengths(4 << 20);
    expect(l.reduce((a, b) => a + b, 0)).toBe(4 << 20);
    expect(l.slice(0, 4)).toEqual([1, 4095, 4096, 4097]);
    expect(zerocopyLengths(5000)).toEqual([1, 4095, 904]);
    expect(udpDatagramSize(1500, 4)).toBe(1400);
    expect(udpDatagramSize(576, 4)).toBe(548);
    expect(udpDatagramSize(1280, 6)).toBe(1232);
  });
});
