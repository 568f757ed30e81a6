import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../matrix/record.js';
import { launchChromium, serveDir } from '../../ci/chromium.js';

// The whole path through the real CLI (dist/, built by the global setup): run on veth, store, site, Chromium.
const BIN = resolve(import.meta.dirname, '../../bin/nicmatrix.js');
const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');

let dir: string;
let record: RunRecord;
let runStderr = '';

function nicmatrix(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), `nicmatrix-veth-site-${process.pid}-`));
  const run = nicmatrix(['run', '--target', 'veth', '--checks', 'tx-csum/*', '--out', 'run.json', '--seed', '7']);
  if (run.status === 2) throw new Error(`nicmatrix run failed: ${run.stderr}`);
  runStderr = run.stderr;
  record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a veth run, from the store to Chromium', () => {
  it('lands in a fresh store; a corrupted record is refused naming the file, and the store keeps the run', () => {
    // `run` itself records into the (fresh, default) store; ingesting the same record again is a no-op.
    expect(runStderr).toMatch(/run record added to the store .*\.nicmatrix\/matrix\.db/);
    const again = nicmatrix(['ingest', 'run.json']);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`unchanged ${record.id} from run.json`);
    const corrupt = structuredClone(record) as unknown as { id: string; targets: { results: { status: string }[] }[] };
    corrupt.id = `${record.id}-corrupt`;
    corrupt.targets[0]!.results[0]!.status = 'passed';
    writeFileSync(join(dir, 'corrupt.json'), JSON.stringify(corrupt));
    const refused = nicmatrix(['ingest', 'corrupt.json']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('corrupt.json: /targets/0/results/0/status: must be one of pass, fail, unsupported, skip, error');
    const data = JSON.parse(nicmatrix(['report', '--format', 'json']).stdout);
    expect(data.runs.map((r: { id: string }) => r.id)).toEqual([record.id]);
  });

  it('gives exactly one JUnit testcase per verdict', () => {
    expect(nicmatrix(['report', '--format', 'junit', '--out', 'junit.xml']).status).toBe(0);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(dir, 'junit.xml'), 'utf8'));
    const cases = [doc.testsuites.testsuite].flat().flatMap((s: { testcase: unknown }) => [s.testcase].flat());
    const verdicts = record.targets.flatMap((t) => t.results);
    expect(verdicts.length).toBeGreaterThan(0);
    expect(cases).toHaveLength(verdicts.length);
  });

  it('builds a site that shows the device, its checks and verdicts in Chromium with no console errors', async () => {
    expect(nicmatrix(['site', '--out', 'site']).status).toBe(0);
    const server = await serveDir(join(dir, 'site'));
    const browser = await launchChromium();
    try {
      const problems: string[] = [];
      const page = await browser.context.newPage();
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
      expect(record.targets[0]).toBeDefined();
      const target = record.targets[0]!;
      const row = page.locator('#matrix tbody tr', { hasText: target.device.description });
      expect(await row.count()).toBe(1);
      const checks = new Set(target.results.map((r) => r.check));
      // Each column names its check; each cell shows the support level with the plain verdict underneath (issue 12).
      const heads = await page.locator('#matrix thead th.chk').evaluateAll((els) => els.map((e) => e.getAttribute('data-check')));
      expect(new Set(heads)).toEqual(checks);
      const shown = await row.locator('td.v small').allTextContents();
      expect(shown).toHaveLength(checks.size);
      expect(shown.every((t) => /^(pass|fail|unsupported|skip|error)$/.test(t))).toBe(true);
      expect(await row.locator('td.v b').count()).toBe(checks.size);
      await page.screenshot({ path: join(SHOTS, 'veth-matrix.png') });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
