import { describe, expect, it } from 'vitest';
import { findingOf } from '../../matrix/findings.js';
import { cellLevel, type Level, type LevelVariant } from '../../matrix/levels.js';
import type { Evidence, Status, TargetKind } from '../../matrix/record.js';
import { STATUSES } from '../../matrix/record.js';
import { featureSnapshot } from '../../matrix/synthetic.js';

const ON = featureSnapshot({ 'tx-checksumming': true, 'tx-checksum-ip-generic': true, 'rx-checksumming': true, 'scatter-gather': true });
const OFF = featureSnapshot({
  'tx-checksumming': false,
  'tx-checksum-ip-generic': false,
  'rx-checksumming': false,
  'scatter-gather': false,
});
const FIXED_OFF = { ...OFF, 'tx-checksumming': { active: false, fixed: true, requested: false } };

function v(variant: string, status: Status, evidence: Evidence = {}, message = `${status} message`): LevelVariant {
  return { variant, status, message, evidence };
}

/**
 * A TX variant as the runner records it. Offload on: the feature is on, unless the
 * device cannot turn it on (unsupported: it stays [fixed] off and the software path ran).
 */
function tx(variant: 'offload-on' | 'offload-off', status: Status, delivery: 'complete' | 'partial' = 'complete'): LevelVariant {
  if (variant === 'offload-off') return v(variant, status, { features: OFF, delivery: 'complete' });
  if (status === 'unsupported')
    return v(variant, status, { features: FIXED_OFF, delivery: 'complete', unmetFeatures: ['tx-checksumming stays off [fixed]'] });
  return v(variant, status, { features: ON, delivery });
}

/** The rule, written out independently of the module: what a reader must see for two TX variants. */
function expected(on: Status, off: Status, hwPath: Level): Level {
  if (on === 'fail' || off === 'fail') return 'broken';
  if (on === 'error' || off === 'error') return 'inconclusive';
  if (on === 'skip' && off === 'skip') return 'not-tested';
  if (on === 'pass') return hwPath;
  return 'software';
}

describe('support level of a cell', () => {
  for (const [kind, delivery, hwPath] of [
    ['qemu', 'complete', 'offloaded'],
    ['phys', 'complete', 'offloaded'],
    ['veth', 'partial', 'partial'],
    ['lo', 'partial', 'partial'],
    ['veth', 'complete', 'software'],
  ] as [TargetKind, 'complete' | 'partial', Level][]) {
    it(`every combination of two variants' verdicts on ${kind} delivering ${delivery} checksums`, () => {
      for (const on of STATUSES)
        for (const off of STATUSES) {
          const j = cellLevel({ check: 'tx-csum/ipv4-udp', kind, variants: [tx('offload-on', on, delivery), tx('offload-off', off)] });
          expect(j.level, `${on} + ${off}`).toBe(expected(on, off, hwPath));
          expect(j.note, `${on} + ${off}`).not.toBe('');
          expect(j.note).not.toContain('\n');
        }
    });
  }

  it('every combination of one variant', () => {
    const one: Record<Status, Level> = {
      pass: 'offloaded',
      fail: 'broken',
      error: 'inconclusive',
      skip: 'not-tested',
      unsupported: 'software',
    };
    for (const s of STATUSES)
      expect(cellLevel({ check: 'tx-csum/ipv4-udp', kind: 'qemu', variants: [tx('offload-on', s)] }).level).toBe(one[s]);
    expect(cellLevel({ check: 'tx-csum/ipv4-udp', variants: [] })).toMatchObject({ level: 'not-tested', status: 'skip' });
  });

  it('every combination of three variants follows the verdict order: fail, then error, then what ran', () => {
    for (const a of STATUSES)
      for (const b of STATUSES)
        for (const c of STATUSES) {
          const all = [a, b, c];
          const j = cellLevel({
            check: 'zc/sendfile',
            kind: 'phys',
            variants: [v('offload-on', a, { features: ON }), v('tso-off', b, { features: ON }), v('sg-off', c, { features: OFF })],
          });
          const want: Level = all.includes('fail')
            ? 'broken'
            : all.includes('error')
              ? 'inconclusive'
              : all.every((s) => s === 'skip')
                ? 'not-tested'
                : a === 'pass' || a === 'unsupported' || b === 'pass' || b === 'unsupported'
                  ? 'offloaded'
                  : 'software';
          expect(j.level, all.join(' + ')).toBe(want);
        }
  });

  it('a device without the offload reads software, naming the fixed feature', () => {
    const j = cellLevel({
      check: 'tx-csum/ipv6-tcp',
      kind: 'qemu',
      variants: [tx('offload-on', 'unsupported'), tx('offload-off', 'pass')],
    });
    expect(j).toMatchObject({ level: 'software', status: 'pass' });
    expect(j.note).toBe('offload-on: tx-checksumming stays off [fixed]; software path verified');
  });

  it('broken names the failing variant and its finding in one line', () => {
    const j = cellLevel({
      check: 'tx-csum/generic',
      kind: 'qemu',
      variants: [
        tx('offload-on', 'pass'),
        v('offload-on', 'fail', { features: ON }, 'generic: 15 of 100 frames with a wrong checksum\nmore'),
        tx('offload-off', 'pass'),
      ],
    });
    expect(j).toEqual({ level: 'broken', status: 'fail', note: 'offload-on: generic: 15 of 100 frames with a wrong checksum' });
  });

  it('attempts that disagree are flaky, with the pass count and the failing finding, whatever the verdict order made of them', () => {
    const message = 'flaky: 2 of 3 attempts passed; checksum wrong at offset 40';
    const j = cellLevel({
      check: 'tx-csum/ipv4-udp',
      kind: 'qemu',
      variants: [
        v('offload-on', 'fail', { features: ON, delivery: 'complete', flaky: { passes: 2, attempts: 3 } }, message),
        tx('offload-off', 'pass'),
      ],
    });
    expect(j).toEqual({ level: 'flaky', note: 'offload-on: 2 of 3 attempts passed; checksum wrong at offset 40', status: 'fail' });
    // Attempts that agree are not flaky, however many there were.
    expect(
      cellLevel({ check: 'tx-csum/ipv4-udp', kind: 'qemu', variants: [tx('offload-on', 'fail'), tx('offload-off', 'pass')] }).level,
    ).toBe('broken');
  });

  it('a harness error is inconclusive, never a device failure', () => {
    const j = cellLevel({
      check: 'tx-csum/ipv4-udp',
      kind: 'qemu',
      variants: [v('offload-on', 'error', {}, 'agent timed out'), tx('offload-off', 'pass')],
    });
    expect(j).toMatchObject({ level: 'inconclusive', note: 'offload-on: harness error, no verdict: agent timed out' });
  });

  it('mixed delivery and parts: offloaded for some cases and not others is partial', () => {
    expect(
      cellLevel({ check: 'tx-csum/ipv4-udp', kind: 'qemu', variants: [v('offload-on', 'pass', { features: ON, delivery: 'mixed' })] })
        .level,
    ).toBe('partial');
    const parts = { features: ON, parts: [{ delivery: 'complete' }, { delivery: 'partial' }] };
    expect(cellLevel({ check: 'tx-csum/udp-zero', kind: 'phys', variants: [v('offload-on', 'pass', parts)] }).level).toBe('partial');
    const whole = { features: ON, parts: [{ delivery: 'complete' }, { delivery: 'complete' }] };
    expect(cellLevel({ check: 'tx-csum/udp-zero', kind: 'phys', variants: [v('offload-on', 'pass', whole)] }).level).toBe('offloaded');
  });

  it('RX: valid marks on every good frame is offloaded, on some partial, on none software', () => {
    const rx = (hv: string, kind: TargetKind = 'phys') =>
      cellLevel({ check: 'rx-csum/ipv4-udp', kind, variants: [v('offload-on', 'pass', { features: ON, hardwareValidated: hv })] });
    expect(rx('100 of 100').level).toBe('offloaded');
    expect(rx('37 of 100')).toMatchObject({
      level: 'partial',
      note: 'offload-on: rx-checksumming on; the device marked 37 of 100 good frames valid',
    });
    expect(rx('0 of 100').level).toBe('software');
    expect(rx('0 of 0').level).toBe('software');
    expect(rx('100 of 100', 'veth').level).toBe('software');
  });

  it('checks that concern no device offload read software when correct', () => {
    for (const check of ['frag/ipv4-overlap', 'tx-csum/udp-nocsum', 'tx-frame/padding', 'gso/ipv4-tcp'])
      expect(cellLevel({ check, kind: 'phys', variants: [v('offload-on', 'pass', { features: ON })] }).level, check).toBe('software');
  });

  it('without per-variant features, falls back to the target snapshot and the variant name', () => {
    const j = cellLevel({
      check: 'tx-csum/ipv4-tcp',
      kind: 'phys',
      features: ON,
      variants: [v('offload-on', 'pass'), v('offload-off', 'pass')],
    });
    expect(j.level).toBe('offloaded');
    expect(cellLevel({ check: 'tx-csum/ipv4-tcp', kind: 'phys', features: ON, variants: [v('offload-off', 'pass')] }).level).toBe(
      'software',
    );
  });
});

describe('finding of a broken cell', () => {
  it('reads an 8-bit csum_start truncation off the offending frames', () => {
    const frames = [1076, 300, 511].map((start) => ({
      hex: '00',
      reason: `frame of 1238 bytes matches no frame sent: closest frame sent (csum_start ${start}, csum_offset 44, field at ${start + 44}) differs at byte(s) ${(start + 44) % 256}, ${((start + 44) % 256) + 1}`,
    }));
    const f = findingOf(
      'tx-csum/generic',
      v('offload-on', 'fail', { frames }, 'generic: 15 of 100 frames with a wrong checksum (first: …)'),
    );
    expect(f).toBe(
      'The device writes the checksum at its offset modulo 256 when csum_start is above 255 — an 8-bit field truncated: for csum_start 1076 + csum_offset 44 it wrote byte 96 instead of 1120 (15 of 100 frames); csum_start of the wrong frames: 300–1076.',
    );
  });

  it('says where bytes changed otherwise, and falls back to the message', () => {
    const frames = [{ hex: '00', reason: 'closest frame sent (csum_start 34, csum_offset 6, field at 40) differs at byte(s) 12, 13' }];
    expect(findingOf('tx-csum/generic', v('offload-on', 'fail', { frames }, 'x'))).toBe(
      'The device altered bytes 12, 13 of a frame whose checksum belonged at byte 40 (csum_start 34).',
    );
    expect(findingOf('tx-csum/ipv4-udp', v('offload-on', 'fail', {}, 'peer saw 0x0000\nmore'))).toBe(
      'tx-csum/ipv4-udp [offload-on] failed: peer saw 0x0000',
    );
  });
});
