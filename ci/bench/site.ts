/**
 * Site benchmark: a synthetic store of 100 devices × 60 checks × 20 kernels,
 * the time `nicmatrix site` takes to build the website from it (target
 * < 10 s) and the time until the matrix page is interactive in Chromium
 * (target < 1 s from navigation start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as siteCommand } from '../../harness/cli/commands/site.js';
import { NicmatrixError } from '../../matrix/errors.js';
import { MatrixStore } from '../../matrix/store.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { launchChromium, serveDir } from '../../test/browser/chromium.js';

const SHAPE = { devices: 100, checks: 60, kernels: 20, variants: 2, devicesPerRun: 10 };
const TARGET_SITE_S = 10;
const TARGET_INTERACTIVE_MS = 1000;
/** Page loads measured; the median is reported. */
const LOADS = 5;

const seconds = (t0: number): number => Math.round((performance.now() - t0) / 10) / 100;

export async function benchSite(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), `nicmatrix-bench-site-${process.pid}-`));
  try {
    const runs = syntheticRuns(SHAPE);
    const storePath = join(dir, 'matrix.db');
    let t0 = performance.now();
    const store = MatrixStore.open(storePath);
    try {
      for (const r of runs) store.ingest(r, 'synthetic');
    } finally {
      store.close();
    }
    const ingestS = seconds(t0);

    const out = join(dir, 'site');
    const log: string[] = [];
    t0 = performance.now();
    const code = await siteCommand.run(
      { values: { store: storePath, out }, positionals: [] },
      { out: () => {}, err: (l) => log.push(l), interactive: false },
    );
    const siteS = seconds(t0);
    if (code !== 0) throw new NicmatrixError('COMMAND_FAILED', `nicmatrix site exited ${code}: ${log.join('; ')}`);

    const server = await serveDir(out);
    const browser = await launchChromium();
    const loads: number[] = [];
    const inits: number[] = [];
    try {
      for (let i = 0; i < LOADS; i++) {
        const page = await browser.context.newPage();
        await page.goto(server.url, { waitUntil: 'load' });
        await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
        const t = await page.evaluate(() => {
          const w = window as unknown as { __nicmatrixReady: number; __nicmatrixInitMs: number };
          return { ready: w.__nicmatrixReady, init: w.__nicmatrixInitMs };
        });
        loads.push(t.ready);
        inits.push(t.init);
        await page.close();
      }
    } finally {
      await browser.close();
      await server.close();
    }
    const sorted = loads.slice().sort((a, b) => a - b);
    const interactiveMs = Math.round(sorted[Math.floor(sorted.length / 2)]);
    const results = runs.reduce((n, r) => n + r.targets.reduce((m, t) => m + t.results.length, 0), 0);
    return {
      shape: { ...SHAPE, runs: runs.length, results },
      storeIngestS: ingestS,
      siteGenerationS: siteS,
      siteSummary: log[log.length - 1],
      matrixInteractiveMs: { median: interactiveMs, first: Math.round(loads[0]), all: loads.map(Math.round) },
      matrixScriptInitMs: Math.round(Math.max(...inits)),
      targets: { siteGenerationS: TARGET_SITE_S, matrixInteractiveMs: TARGET_INTERACTIVE_MS },
      met: { siteGeneration: siteS < TARGET_SITE_S, matrixInteractive: interactiveMs < TARGET_INTERACTIVE_MS },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
