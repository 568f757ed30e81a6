import { Ajv, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aggregate } from '../../matrix/aggregate.js';
import type { RunRecord } from '../../matrix/record.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { REPORTERS } from '../../reports/index.js';
import { architecture, kcidbReport, pathPart, testPath } from '../../reports/kcidb.js';
import { e1000Target, result, runRecord, vethRun, vethTarget } from '../fixtures/records.js';

// The KCIDB v5.3 schema as kcidb-io defines it, with the three formats it uses checked strictly enough to catch our mistakes.
const schema = JSON.parse(readFileSync(new URL('../fixtures/kcidb-v5.3.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:[^\s]*$/i);
ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
const validate: ValidateFunction = ajv.compile(schema);

function render(runs: RunRecord[]): unknown {
  const text = REPORTERS.kcidb!.render({
    runs,
    matrix: aggregate(runs),
    generatedAt: '2025-06-01T00:00:00.000Z',
    source: 'run.json',
  }) as string;
  return JSON.parse(text);
}

function assertValid(doc: unknown): void {
  const ok = validate(doc);
  expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
}

describe('KCIDB v5.3 export', () => {
  it('validates against the v5.3 schema, for hand-made and synthetic runs', () => {
    assertValid(render([vethRun()]));
    assertValid(render(syntheticRuns({ devices: 6, checks: 8, kernels: 3, devicesPerRun: 3 })));
  });

  it('the schema really refuses what KCIDB refuses (so the test above can fail)', () => {
    const doc = render([vethRun()]) as { tests: Record<string, unknown>[]; version: Record<string, unknown> };
    const broken = [
      { ...doc, version: { major: 4 } },
      { ...doc, tests: [{ ...doc.tests[0], status: 'pass' }] },
      { ...doc, tests: [{ ...doc.tests[0], path: 'nic.veth.tx-csum/ipv4-udp' }] },
      { ...doc, tests: [{ ...doc.tests[0], id: 'no-origin-prefix' }] },
      { ...doc, tests: [{ ...doc.tests[0], origin: 'Nic Matrix' }] },
      { ...doc, tests: [{ ...doc.tests[0], unknown: 1 }] },
      { ...doc, tests: [{ id: 'nicmatrix:x', origin: 'nicmatrix' }] },
      { ...doc, tests: [{ ...doc.tests[0], log_excerpt: 'x'.repeat(16385) }] },
    ];
    for (const b of broken) expect(validate(b)).toBe(false);
  });

  it('one checkout and build per kernel, one test per target × check × variant, linked by id', () => {
    const runs = [
      runRecord([
        vethTarget([result('tx-csum/ipv6-udp', 'pass'), result('tx-csum/ipv6-udp', 'fail', 'offload-off', 'bad sum')]),
        e1000Target([result('tx-csum/ipv4-tcp', 'unsupported')], { kernel: '6.1.0-56-amd64' }),
      ]),
    ];
    const doc = kcidbReport(runs);
    expect(doc.version).toEqual({ major: 5, minor: 3 });
    expect(doc.checkouts.map((c) => c.id)).toEqual(['nicmatrix:kernel-6_18_0', 'nicmatrix:kernel-6_1_0_56_amd64']);
    expect(doc.builds.map((b) => [b.checkout_id, b.architecture, b.status])).toEqual([
      ['nicmatrix:kernel-6_18_0', 'x86_64', 'PASS'],
      ['nicmatrix:kernel-6_1_0_56_amd64', 'x86_64', 'PASS'],
    ]);
    expect(doc.tests.map((t) => [t.path, t.status])).toEqual([
      ['nic.veth.tx_csum.ipv6_udp.offload_on', 'PASS'],
      ['nic.veth.tx_csum.ipv6_udp.offload_off', 'FAIL'],
      // Unsupported ran the software fallback and verified it: a pass, whose level says software.
      ['nic.e1000.tx_csum.ipv4_tcp.offload_on', 'PASS'],
    ]);
    expect(new Set(doc.tests.map((t) => t.id)).size).toBe(3);
    expect(doc.tests[1]).toMatchObject({ log_excerpt: 'bad sum', duration: 0.012 });
    expect(doc.tests[2]!.misc).toMatchObject({
      pci_id: '8086:100e',
      driver: 'e1000',
      driver_version: '7.3.21-k8-NAPI',
      model: 'e1000',
      target: 'qemu:e1000',
      nicmatrix_status: 'unsupported',
      nicmatrix_level: 'software',
    });
    expect(doc.tests[1]!.misc).toMatchObject({ nicmatrix_level: 'broken', nicmatrix_level_note: 'offload-off: bad sum' });
    expect(doc.tests.every((t) => doc.builds.some((b) => b.id === t.build_id))).toBe(true);
    expect(doc.builds.every((b) => doc.checkouts.some((c) => c.id === b.checkout_id))).toBe(true);
  });

  it('a target that never came up did not run its tests: MISS, not ERROR', () => {
    const down = vethTarget([result('tx-csum/ipv4-udp', 'error', 'all', 'no such device')], {
      setupError: { code: 'TARGET_SETUP', message: 'no such device' },
    });
    const flaky = vethTarget([result('tx-csum/ipv4-udp', 'error', 'offload-on', 'agent went away')]);
    const doc = kcidbReport([runRecord([down, flaky])]);
    expect(doc.tests.map((t) => t.status)).toEqual(['MISS', 'ERROR']);
  });

  it('paths, architectures and text are made KCIDB-safe', () => {
    expect(pathPart('tx-csum')).toBe('tx_csum');
    expect(pathPart('phys:ns/eth0,peer')).toBe('phys_ns_eth0_peer');
    expect(testPath(vethTarget([]), result('rx-csum/ipv4-udp-bad', 'pass', 'vlan 100'))).toBe('nic.veth.rx_csum.ipv4_udp_bad.vlan_100');
    expect(architecture('x64')).toBe('x86_64');
    expect(architecture('arm64')).toBe('arm64');
    // Records name the host arch as `uname -m` does.
    expect(architecture('x86_64')).toBe('x86_64');
    expect(architecture('aarch64')).toBe('arm64');
    const doc = kcidbReport([
      runRecord([vethTarget([result('tx-csum/ipv4-udp', 'fail', 'offload-on', `nul\0inside ${'x'.repeat(20000)}`)])]),
    ]);
    assertValid(JSON.parse(JSON.stringify(doc)));
    expect(doc.tests[0]).toBeDefined();
    expect(String(doc.tests[0]!.log_excerpt)).not.toContain('\0');
    expect(() => kcidbReport([], { origin: 'Bad Origin' })).toThrow(/origin/);
  });
});
