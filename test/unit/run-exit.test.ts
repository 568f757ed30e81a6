import { describe, expect, it } from 'vitest';
import { completeExitCode } from '../../harness/cli/commands/run.js';
import type { RunRecord, Status, TargetRecord } from '../../matrix/record.js';

const target = (spec: string, statuses: Status[], setupError?: TargetRecord['setupError']) =>
  ({
    spec,
    ...(setupError ? { setupError } : {}),
    results: statuses.map((status, i) => ({ check: `c/${i}`, variant: 'v', status, durationMs: 1, message: '', evidence: {} })),
  }) as unknown as TargetRecord;
const record = (targets: TargetRecord[]) => ({ targets }) as Pick<RunRecord, 'targets'>;

describe('run --complete-ok', () => {
  it('is 0 when every target ran, failures and cells in error included, and names the cells in error', () => {
    const said: string[] = [];
    expect(completeExitCode(record([target('veth', ['pass', 'fail']), target('qemu:pcnet', ['pass', 'error'])]), (l) => said.push(l))).toBe(
      0,
    );
    expect(said).toEqual(['1 cell(s) the harness could not judge (error, shown as inconclusive): qemu:pcnet c/1 [v]']);
  });

  it('is 2 when a target could not be set up, and says why', () => {
    const said: string[] = [];
    const t = target('qemu:e1000', ['error'], { code: 'PREREQ', message: 'qemu-system-x86_64 is not installed' });
    expect(completeExitCode(record([target('lo', ['pass']), t]), (l) => said.push(l))).toBe(2);
    expect(said[0]).toBe('qemu:e1000 could not be set up: [PREREQ] qemu-system-x86_64 is not installed');
  });
});
