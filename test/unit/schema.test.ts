import { describe, expect, it } from 'vitest';
import { isNicmatrixError } from '../../matrix/errors.js';
import { migrateV0, parseRecord, upgradeRecord } from '../../matrix/migrate.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { assertRecord, recordIssues } from '../../matrix/validate.js';
import schema from '../../matrix/run-record.schema.json' with { type: 'json' };
import { runRecord, vethRun, vethTarget, result } from '../fixtures/records.js';

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isNicmatrixError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a NicmatrixError, nothing was thrown');
}

describe('run record schema', () => {
  it('is draft 2020-12 and names the current schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.properties.schema.const).toBe('nicmatrix.run/1');
  });

  it('accepts hand-made and synthetic records', () => {
    expect(recordIssues(vethRun())).toEqual([]);
    for (const r of syntheticRuns({ devices: 7, checks: 12, kernels: 2, devicesPerRun: 3 })) expect(recordIssues(r)).toEqual([]);
  });

  it('names the file and the JSON pointer of a bad status, listing the allowed values', () => {
    const rec = vethRun() as unknown as { targets: { results: { status: string }[] }[] };
    rec.targets[0]!.results[3]!.status = 'passed';
    const e = thrown(() => assertRecord(rec, 'run.json'));
    expect(e.code).toBe('RECORD_INVALID');
    expect(e.message).toBe('run.json: /targets/0/results/3/status: must be one of pass, fail, unsupported, skip, error');
  });

  it('reports missing required fields and unknown fields by pointer', () => {
    const rec = vethRun() as unknown as Record<string, unknown> & { targets: Record<string, unknown>[] };
    delete rec.targets[0]!.driver;
    rec.targets[0]!.drvier = {};
    const issues = recordIssues(rec);
    expect(issues).toContainEqual({ pointer: '/targets/0/driver', message: 'is required but missing' });
    expect(issues.map((i) => i.pointer)).toContain('/targets/0/drvier');
  });

  it('keeps evidence open-ended but typed where it is known', () => {
    const ok = runRecord([
      vethTarget([{ ...result('tx-csum/generic', 'pass'), evidence: { anything: { nested: [1, 2] }, pcap: 'x.pcap' } }]),
    ]);
    expect(recordIssues(ok)).toEqual([]);
    const bad = runRecord([vethTarget([{ ...result('tx-csum/generic', 'fail'), evidence: { frames: [{ hex: 'zz', reason: 'r' }] } }])]);
    expect(recordIssues(bad).map((i) => i.pointer)).toEqual(['/targets/0/results/0/evidence/frames/0/hex']);
  });

  it('checks dates and PCI ids', () => {
    const rec = vethRun({ startedAt: 'yesterday' });
    rec.targets[0]!.device.pciId = '8086:100E';
    expect(
      recordIssues(rec)
        .map((i) => i.pointer)
        .sort(),
    ).toEqual(['/startedAt', '/targets/0/device/pciId']);
  });
});

describe('record versions', () => {
  function v0(): Record<string, unknown> {
    const cur = vethRun() as unknown as Record<string, unknown>;
    const t = (cur.targets as Record<string, unknown>[])[0]!;
    const { device: _d, dimensions: _dim, evidence: _ev, ...rest } = t;
    return {
      ...cur,
      schema: 'nicmatrix.run/0',
      targets: [{ ...rest, spec: 'qemu:e1000', kind: 'qemu', model: 'e1000', pciId: '8086:100e' }],
    };
  }

  it('migrates a nicmatrix.run/0 record to the current shape', () => {
    const rec = upgradeRecord(v0(), 'old.json');
    expect(rec.schema).toBe('nicmatrix.run/1');
    expect(rec.targets[0]).toBeDefined();
    expect(rec.targets[0]!.device).toEqual({ model: 'e1000', pciId: '8086:100e', description: 'QEMU e1000' });
    expect(rec.targets[0]!.dimensions).toEqual({});
    expect(recordIssues(rec)).toEqual([]);
    expect(recordIssues(migrateV0(v0()))).toEqual([]);
  });

  it('validates a v0 record against its own schema before migrating', () => {
    const old = v0();
    (old.targets as Record<string, unknown>[])[0]!.device = { description: 'v1 field in a v0 record' };
    const e = thrown(() => upgradeRecord(old, 'old.json'));
    expect(e.code).toBe('RECORD_INVALID');
    expect(e.message).toContain('old.json (nicmatrix.run/0): /targets/0/device:');
  });

  it('refuses a newer schema with RECORD_VERSION', () => {
    const e = thrown(() => upgradeRecord({ ...vethRun(), schema: 'nicmatrix.run/2' }, 'future.json'));
    expect(e.code).toBe('RECORD_VERSION');
    expect(e.message).toMatch(/^future\.json: \/schema: nicmatrix\.run\/2 is newer than this nicmatrix understands/);
  });

  it('refuses what is not a run record at all, naming the file', () => {
    expect(thrown(() => parseRecord('{"schema": 1', 'cut.json'))).toMatchObject({
      code: 'RECORD_INVALID',
      message: expect.stringMatching(/^cut\.json: not valid JSON/),
    });
    expect(thrown(() => upgradeRecord([], 'a.json')).message).toBe('a.json: /: must be a run record object, found an array');
    expect(thrown(() => upgradeRecord({ schema: 'other/1' }, 'b.json')).message).toContain('b.json: /schema: must be "nicmatrix.run/N"');
  });
});
