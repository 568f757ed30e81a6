import { XMLParser } from 'fast-xml-parser';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Command, parseCommandArgs } from '../../harness/cli/commands/command.js';
import { command as ingest } from '../../harness/cli/commands/ingest.js';
import { command as report } from '../../harness/cli/commands/report.js';
import { command as site } from '../../harness/cli/commands/site.js';
import { isNicmatrixError } from '../../harness/codec/errors.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { e1000Target, result, runRecord, vethRun } from '../fixtures/records.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), `nicmatrix-site-${process.pid}-`));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a command module as main() would: its options parsed by its own table, then run. */
async function invoke(cmd: Command, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await cmd.run(parseCommandArgs(cmd, argv), { out: (l) => out.push(l), err: (l) => err.push(l), interactive: false });
  return { code, out, err };
}

async function failure(cmd: Command, argv: string[]): Promise<{ code: string; message: string }> {
  try {
    await invoke(cmd, argv);
  } catch (e) {
    if (isNicmatrixError(e)) return e;
    throw e;
  }
  throw new Error('expected a NicmatrixError');
}

function write(name: string, value: unknown): string {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('ingest, report and site commands', () => {
  it('lands a veth run in a fresh store, refuses a corrupted record and keeps the earlier run', async () => {
    const store = join(dir, 'fresh', 'matrix.db');
    const rec = vethRun();
    rec.targets[0]!.results[2]!.evidence.pcap = 'run.pcap/fail.pcap';
    write('veth/run.pcap/fail.pcap', 'PCAP');
    const good = write('veth/run.json', rec);
    const first = await invoke(ingest, [good, '--store', store]);
    expect(first.code).toBe(0);
    expect(first.out).toEqual([`added ${rec.id} from ${good} with 1 pcap(s)`]);
    expect((await invoke(ingest, [good, '--store', store])).out[0]).toMatch(/^unchanged /);

    const bad = JSON.parse(readFileSync(good, 'utf8'));
    bad.id = 'another-run';
    bad.targets[0].results[1].status = 'maybe';
    const badFile = write('veth/corrupt.json', bad);
    const refused = await invoke(ingest, [badFile, '--store', store]);
    expect(refused.code).toBe(2);
    expect(refused.err[0]).toBe(
      `ingest: refused [RECORD_INVALID]: ${badFile}: /targets/0/results/1/status: must be one of pass, fail, unsupported, skip, error`,
    );

    const json = await invoke(report, ['--format', 'json', '--store', store]);
    const data = JSON.parse(json.out.join('\n'));
    expect(data.runs.map((r: { id: string }) => r.id)).toEqual([rec.id]);
  });

  it('writes JUnit with one testcase per verdict from a run file', async () => {
    const runs = syntheticRuns({ devices: 3, checks: 8, kernels: 1, devicesPerRun: 3 });
    const file = write('junit/run.json', runs[0]);
    const out = join(dir, 'junit', 'report.xml');
    expect((await invoke(report, ['--format', 'junit', '--run', file, '--out', out])).code).toBe(0);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(out, 'utf8'));
    const cases = [doc.testsuites.testsuite].flat().flatMap((s: { testcase: unknown }) => [s.testcase].flat());
    expect(cases).toHaveLength(runs[0]!.targets.reduce((n, t) => n + t.results.length, 0));
  });

  it('refuses bad usage clearly', async () => {
    expect(await failure(report, ['--format', 'pdf'])).toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('junit, markdown, json'),
    });
    expect((await failure(report, ['--format', 'json', '--store', join(dir, 'missing.db')])).code).toBe('STORE');
    expect((await failure(report, ['--format', 'json', '--run', write('v2.json', { ...vethRun(), schema: 'nicmatrix.run/2' })])).code).toBe(
      'RECORD_VERSION',
    );
    expect((await failure(ingest, [])).code).toBe('USAGE');
  });

  it('builds the site from the store, copying pcaps, and rebuilds over its own output only', async () => {
    const store = join(dir, 'site.db');
    const rec = runRecord([e1000Target([{ ...result('tx-csum/ipv4-tcp', 'fail', 'offload-on', 'bad'), evidence: { pcap: 'p/x.pcap' } }])]);
    write('s/p/x.pcap', 'PCAPBYTES');
    await invoke(ingest, [write('s/run.json', rec), write('s/veth.json', vethRun()), '--store', store]);
    const out = join(dir, 'www');
    const built = await invoke(site, ['--store', store, '--out', out]);
    expect(built.code).toBe(0);
    expect(built.out).toEqual([join(out, 'index.html')]);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toContain('veth pair');
    expect(index).toContain('Intel 82540EM (QEMU)');
    const pcaps = readdirSync(join(out, 'pcap'));
    expect(pcaps).toHaveLength(1);
    expect(readFileSync(join(out, 'pcap', pcaps[0]!), 'utf8')).toBe('PCAPBYTES');
    writeFileSync(join(out, 'stale.html'), 'old');
    expect((await invoke(site, ['--store', store, '--out', out])).code).toBe(0);
    expect(existsSync(join(out, 'stale.html'))).toBe(false);
    const foreign = join(dir, 'foreign');
    write('foreign/keep.txt', 'mine');
    expect((await failure(site, ['--store', store, '--out', foreign])).code).toBe('USAGE');
    expect(readFileSync(join(foreign, 'keep.txt'), 'utf8')).toBe('mine');
  });
});
