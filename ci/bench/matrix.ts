/**
 * `npm run bench matrix`: the default matrix once, its wall time and per
 * target where the time went (boot, configure, send, judge).
 * `npm run bench stability`: the default matrix N times (NICMATRIX_BENCH_RUNS,
 * default 3); every cell whose verdict changed between runs.
 */
import os from 'node:os';
import { allChecks } from '../../harness/checks/registry.js';
import { DEFAULT_TARGETS, defaultJobs } from '../../harness/run/defaults.js';
import { runMatrix } from '../../harness/run/runner.js';
import type { RunRecord } from '../../matrix/record.js';
import { changedCells, qualificationDisagreements, targetTiming } from './matrix-report.js';

/** The machine's load when a run starts and ends: the numbers mean little on a busy host, so they say how busy it was. */
function load(): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

async function runOnce(seed: number): Promise<{ record: RunRecord; wallMs: number; loadBefore: number[]; loadAfter: number[] }> {
  const loadBefore = load();
  const t0 = Date.now();
  const record = await runMatrix({
    targets: [...DEFAULT_TARGETS],
    checks: allChecks(),
    checkGlobs: [],
    seed,
    jobs: defaultJobs(os.cpus().length),
    argv: [],
    signal: new AbortController().signal,
  });
  return { record, wallMs: Date.now() - t0, loadBefore, loadAfter: load() };
}

export async function benchMatrix(): Promise<Record<string, unknown>> {
  const { record, wallMs, loadBefore, loadAfter } = await runOnce(1);
  return {
    wallMs,
    loadAverage: { before: loadBefore, after: loadAfter },
    targets: Object.fromEntries(record.targets.map((t) => [t.spec, targetTiming(t)])),
    qualificationDisagreements: qualificationDisagreements(record),
  };
}

export async function benchStability(): Promise<Record<string, unknown>> {
  const runs = Number(process.env.NICMATRIX_BENCH_RUNS ?? 3);
  const out: { wallMs: number; load: number[] }[] = [];
  const records: RunRecord[] = [];
  for (let i = 0; i < runs; i++) {
    // A different seed each run: a cell that flips with the random choices is as unstable as one that flips by itself.
    const r = await runOnce(i + 1);
    records.push(r.record);
    out.push({ wallMs: r.wallMs, load: r.loadAfter });
    process.stderr.write(`bench: stability run ${i + 1}/${runs}: ${Math.round(r.wallMs / 1000)} s\n`);
  }
  return { runs: out, changed: changedCells(records) };
}
