import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { aggregate } from '../../matrix/aggregate.js';
import type { RunRecord } from '../../matrix/record.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { combineAttempts } from '../../harness/run/attempts.js';
import { matrixCsv } from '../../reports/data.js';
import { REPORTERS } from '../../reports/index.js';
import { csvField, mdEscape, xmlEscape } from '../../reports/text.js';
import type { ReportInput } from '../../reports/types.js';
import { e1000Target, result, runRecord, vethRun } from '../fixtures/records.js';

function input(runs: RunRecord[]): ReportInput {
  return { runs, matrix: aggregate(runs), generatedAt: '2025-06-01T00:00:00.000Z', source: 'run.json' };
}

const render = (format: string, runs: RunRecord[]): string => REPORTERS[format]!.render(input(runs)) as string;

type Node = Record<string, unknown>;
const list = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]) as Node[];

function parseJunit(xml: string): Node[] {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', htmlEntities: true }).parse(xml) as Node;
  return list((doc.testsuites as Node).testsuite).flatMap((s) => list(s.testcase));
}

describe('JUnit reporter', () => {
  it('has exactly one testcase per target × check × variant, parsed back', () => {
    const runs = [...syntheticRuns({ devices: 5, checks: 9, kernels: 2, devicesPerRun: 3 }), vethRun()];
    const verdicts = runs.flatMap((r) => r.targets.flatMap((t) => t.results));
    const cases = parseJunit(render('junit', runs));
    expect(cases).toHaveLength(verdicts.length);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', htmlEntities: true }).parse(render('junit', runs)) as {
      testsuites: Node;
    };
    expect(Number(doc.testsuites['@tests'])).toBe(verdicts.length);
    expect(Number(doc.testsuites['@failures'])).toBe(verdicts.filter((v) => v.status === 'fail').length);
  });

  it('maps verdicts to failure, error and skipped (unsupported is a verified fallback, not a skip), with classname spec/device and name check [variant]', () => {
    const rec = vethRun();
    rec.targets[0]!.results.push(result('tx-csum/ipv4-udp', 'error', 'offload-on', 'agent exited'));
    const cases = parseJunit(render('junit', [rec]));
    const byName = new Map(cases.map((c) => [c['@name'], c]));
    expect(byName.get('tx-csum/ipv4-tcp [offload-on]')).toMatchObject({ '@classname': 'veth/veth' });
    expect((byName.get('tx-csum/ipv6-udp [offload-on]')!.failure as Node)['@message']).toBe(
      'peer saw UDP checksum 0x0000, expected 0xffff',
    );
    expect((byName.get('tx-csum/ipv4-udp [offload-on]')!.error as Node)['@message']).toBe('agent exited');
    const unsupported = byName.get('zc/sendfile-page [offload-on]')!;
    expect(unsupported.skipped).toBeUndefined();
    expect(unsupported['system-out']).toBe(
      'unsupported: the device does not offer this offload; the software fallback was verified (cell level: software, the device offers no offload for it (or the check concerns none); the software path was verified): scatter-gather [fixed] off',
    );
    const props = (c: Node): Record<string, string> =>
      Object.fromEntries(
        [(c.properties as Node).property as Node | Node[]].flat().map((p) => [p['@name'] as string, p['@value'] as string]),
      );
    expect(props(unsupported)).toMatchObject({ verdict: 'unsupported', level: 'software' });
    expect(props(byName.get('tx-csum/ipv6-udp [offload-on]')!)).toMatchObject({ verdict: 'fail', level: 'broken' });
    expect(byName.get('frag/ipv4-overlap [offload-on]')!.skipped).toBeDefined();
    expect(byName.get('tx-csum/ipv4-tcp [offload-off]')!.failure).toBeUndefined();
  });

  it('a variant whose attempts disagreed is flaky: its pass count as a property, a flaky failure, one <flakyFailure> per attempt that did not pass', () => {
    const attempts = [
      result('tx-csum/ipv4-tcp', 'pass', 'offload-on', 'ok'),
      result('tx-csum/ipv4-tcp', 'fail', 'offload-on', 'checksum wrong'),
      result('tx-csum/ipv4-tcp', 'pass', 'offload-on', 'ok'),
    ];
    const rec = runRecord([e1000Target([combineAttempts(attempts)])]);
    const [c] = parseJunit(render('junit', [rec]));
    expect(c).toBeDefined();
    expect(c!.failure).toMatchObject({ '@type': 'flaky', '@message': 'flaky: 2 of 3 attempts passed; checksum wrong' });
    expect(list(c!.flakyFailure).map((f) => f['@message'])).toEqual(['attempt 2: fail: checksum wrong']);
    const props = Object.fromEntries(list((c!.properties as Node).property).map((p) => [p['@name'], p['@value']]));
    expect(props).toMatchObject({ verdict: 'fail', flaky: '2 of 3 attempts passed', level: 'flaky' });
    const md = render('markdown', [rec]);
    expect(md).toContain('| target | offloaded | partial | software | broken | flaky | inconclusive | not tested |');
    expect(md).toContain('#### Flaky');
  });

  it('escapes markup and control characters in names and messages', () => {
    const rec = runRecord([
      e1000Target([result('tx-csum/ipv4-tcp', 'fail', 'offload-on', 'bad <frame> & "quote"\u0001\nline 2')], {
        driver: { name: '<script>alert(1)</script>', version: '', firmware: '', bus: '' },
        device: { model: 'e1000"/><x', description: 'd' },
      }),
    ]);
    const xml = render('junit', [rec]);
    const [c] = parseJunit(xml);
    expect(c).toBeDefined();
    expect(c!['@classname']).toBe('qemu:e1000/e1000"/><x');
    expect((c!.failure as Node)['@message']).toBe('bad <frame> & "quote"\ufffd\nline 2');
  });
});

describe('Markdown reporter', () => {
  it('summarises the verdict, the targets and the failures', () => {
    const md = render('markdown', [vethRun()]);
    expect(md).toMatch(/^## nicmatrix: FAIL: 1 failed, 0 errors in 6 verdicts/);
    expect(md).toContain('| `veth` | veth pair | veth 1.0 | 6.18.0 | 3 | **1** | 1 | 1 | 0 |');
    expect(md).toContain('| `veth` | `tx-csum/ipv6-udp` | offload-on | **fail** | peer saw UDP checksum 0x0000, expected 0xffff |');
    expect(md).toContain('<details><summary>Not yet tested (4)</summary>');
    expect(md).toContain('| target | offloaded | partial | software | broken | inconclusive | not tested |');
    expect(md).toContain('| `veth` | 0 | 0 | 3 | **1** | 0 | 1 |');
    expect(md).toContain('- `veth` `tx-csum/ipv6-udp`: offload-on: peer saw UDP checksum 0x0000, expected 0xffff');
  });

  it('lists regressions and claimed-but-failed cells from the matrix', () => {
    const a = runRecord([e1000Target([result('tx-csum/ipv4-tcp', 'pass')], { kernel: '6.1.0' })]);
    const b = runRecord([e1000Target([result('tx-csum/ipv4-tcp', 'fail', 'offload-on', 'bad')], { kernel: '6.2.0' })]);
    const md = render('markdown', [a, b]);
    expect(md).toContain('### Regressions');
    expect(md).toContain('- **e1000** Intel 82540EM \\(QEMU\\): `tx-csum/ipv4-tcp` passed on 6.1.0, fails on 6.2.0');
    expect(md).toContain('### Claimed but failed');
  });

  it('renders HTML and table syntax in messages as text', () => {
    const rec = runRecord([e1000Target([result('tx-csum/ipv4-tcp', 'fail', 'offload-on', '<img src=x onerror=alert(1)> | col')])]);
    const md = render('markdown', [rec]);
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;img src=x onerror=alert\\(1\\)&gt; \\| col');
    expect(mdEscape('a|b\nc')).toBe('a\\|b c');
  });

  it('caps long lists', () => {
    const runs = syntheticRuns({ devices: 30, checks: 40, kernels: 1 });
    const md = render('markdown', runs);
    expect(md).toMatch(/… and \d+ more failures/);
    expect(md.length).toBeLessThan(65_536);
  });
});

describe('JSON reporter and CSV', () => {
  it('gives the matrix as data', () => {
    const data = JSON.parse(render('json', [vethRun()]));
    expect(data.schema).toBe('nicmatrix.matrix/1');
    expect(data.cells).toHaveLength(5);
    expect(data.devices.filter((d: { untested: boolean }) => d.untested)).toHaveLength(4);
  });

  it('writes one CSV row per device × check × kernel plus untested devices, quoted safely', () => {
    const rec = runRecord([
      e1000Target([result('tx-csum/ipv4-tcp', 'pass'), result('zc/sendfile-0', 'fail')], {
        driver: { name: 'e1000', version: '', firmware: '=cmd|"x", y', bus: '' },
      }),
    ]);
    const lines = matrixCsv(aggregate([rec]))
      .trimEnd()
      .split('\r\n');
    expect(lines).toHaveLength(1 + 2 + 4);
    expect(lines[1]).toContain(`"'=cmd|""x"", y"`);
    expect(csvField('a"b')).toBe('"a""b"');
    expect(xmlEscape('<&>')).toBe('&lt;&amp;&gt;');
  });
});
