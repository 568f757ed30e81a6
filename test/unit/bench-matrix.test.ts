import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { changedCells, qualificationDisagreements, targetTiming } from '../../ci/bench/matrix-report.js';
import type { RunRecord, Status, TargetRecord } from '../../matrix/record.js';

const target = (spec: string, results: [string, string, Status][], evidence: Record<string, unknown> = {}): TargetRecord => ({
  spec,
  kind: 'qemu',
  device: { description: '' },
  driver: { name: '', version: '', firmware: '', bus: '' },
  kernel: '',
  features: {},
  dimensions: {},
  evidence,
  results: results.map(([check, variant, status]) => ({ check, variant, status, durationMs: 10, message: '', evidence: {} })),
});
const run = (targets: TargetRecord[]) => ({ targets }) as unknown as RunRecord;

describe('bench matrix report', () => {
  it('breaks a target down into boot, configure, send and judge', () => {
    const t = target(
      'qemu:e1000',
      [
        ['a', 'on', 'pass'],
        ['a', 'off', 'fail'],
      ],
      {
        bootMs: 9000,
        bootCpuMs: 4000,
        timing: { totalMs: 60000, setupMs: 10000, configureMs: 3000, linkWaitMs: 2000, checksMs: 45000, agentMs: 40000, probeMs: 1000 },
      },
    );
    expect(targetTiming(t)).toMatchObject({
      setupMs: 10000,
      bootMs: 9000,
      bootCpuMs: 4000,
      configureMs: 3000,
      sendMs: 40000,
      judgeMs: 5000,
      statuses: { pass: 1, fail: 1 },
    });
  });

  it('lists every cell whose verdict changed between runs, and cells a run lacks', () => {
    const a = run([
      target('veth', [
        ['x', 'on', 'pass'],
        ['y', 'on', 'pass'],
      ]),
    ]);
    const b = run([
      target('veth', [
        ['x', 'on', 'fail'],
        ['y', 'on', 'pass'],
        ['z', 'on', 'pass'],
      ]),
    ]);
    expect(changedCells([a, b, a])).toEqual([
      { cell: 'veth x [on]', verdicts: ['pass', 'fail', 'pass'] },
      { cell: 'veth z [on]', verdicts: ['missing', 'pass', 'missing'] },
    ]);
    expect(changedCells([a, a])).toEqual([]);
  });
});

describe('qualification against the matrix', () => {
  it('finds no disagreement on a real e1000 run (levels, and TX offload qualified exactly when the cells read offloaded)', () => {
    const record = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/qemu-e1000-csum.run.json'), 'utf8')) as RunRecord;
    expect(qualificationDisagreements(record)).toEqual([]);
  });
});
