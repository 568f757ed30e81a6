import { describe, expect, it } from 'vitest';
import { LARGE_FLOOR, LARGE_SIZE, planLargeSize, smallCases, smallFiles } from '../../harness/checks/zc/cases.js';
import { callRanges, combineModes, tallyCompletions } from '../../harness/checks/zc/completions.js';
import { counterFaults, honouredOutcome, judgeMutation } from '../../harness/checks/zc/judge.js';
import { blocksWithin, CompletionFrontier, MAX_WRITES_PER_BLOCK, planWrites, WriteLog } from '../../harness/checks/zc/mutation.js';
import { POISON } from '../../harness/checks/zc/pattern.js';
import type { AttributionResult } from '../../harness/checks/zc/verify.js';
import { udpDatagramSize, zerocopyLengths } from '../../harness/checks/zc/zerocopy-plan.js';
import { createRng } from '../../harness/random.js';

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
  const tally = { calls: 10, copiedCalls: 10 };
  it('pass only when honoured; unsupported with the reason when copying is by design; fail otherwise', () => {
    expect(honouredOutcome('honoured', { calls: 10, copiedCalls: 0 }, { sgActive: true }).status).toBe('pass');
    expect(honouredOutcome('copied', tally, { sgActive: true, localDelivery: 'the veth driver' })).toEqual({
      status: 'unsupported',
      message:
        '10 of 10 MSG_ZEROCOPY send calls were copied (SO_EE_CODE_ZEROCOPY_COPIED): the veth driver delivers to a local socket, and local delivery copies user pages',
    });
    expect(honouredOutcome('copied', tally, { sgActive: false }).message).toMatch(/scatter-gather off/);
    expect(honouredOutcome('mixed', { calls: 10, copiedCalls: 3 }, { sgActive: true })).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^3 of 10 .* transmits for real/),
    });
    expect(honouredOutcome('none', tally, { sgActive: true }).status).toBe('fail');
  });
});

describe('counter faults', () => {
  it('any checksum error at the peer is a fault; retransmissions only beyond the storm threshold', () => {
    expect(counterFaults({}, { TcpOutSegs: 10_000, TcpRetransSegs: 50 })).toEqual([]);
    expect(counterFaults({ TcpInCsumErrors: 2 }, {})).toEqual(['segments with bad checksums reached the peer (TcpInCsumErrors +2)']);
    expect(counterFaults({}, { TcpOutSegs: 100, TcpRetransSegs: 51 })).toEqual([
      'retransmission storm: the DUT retransmitted 51 of 100 segments',
    ]);
    expect(counterFaults({}, { TcpOutSegs: 10_000, TcpRetransSegs: 1001 })).toHaveLength(1);
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
      expect(log.written[block] & (1 << code)).not.toBe(0);
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
    expect(files.sparse.holes!.length).toBeGreaterThan(2);
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
