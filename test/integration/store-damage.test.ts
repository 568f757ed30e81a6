/**
 * A really damaged store file (2 KiB of bytes written over it, as a bad disk or a killed copy
 * leaves it) is a STORE error that names the file and the way out, never a stack trace;
 * `nicmatrix store verify` finds it and `nicmatrix store rebuild` brings back every verdict
 * from the run records the store keeps beside the file.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { createRng } from '../../harness/codec/random.js';
import { nicmatrix, tmpDir } from '../helpers/cli.js';

const STORE = '.nicmatrix/matrix.db';

/** A directory with run record files ingested by the CLI into its default store; returns it and the store's matrix JSON. */
async function populated(name: string): Promise<{ cwd: string; matrix: unknown; n: number }> {
  const cwd = tmpDir(name);
  mkdirSync(join(cwd, 'runs'));
  const files = syntheticRuns({ devices: 12, checks: 10, kernels: 3, devicesPerRun: 2 }).map((r, i) => {
    const file = join('runs', `run-${i}.json`);
    writeFileSync(join(cwd, file), JSON.stringify(r, null, 2));
    return file;
  });
  const ingest = await nicmatrix(['ingest', ...files], { cwd });
  expect(ingest.exitCode, ingest.stderr).toBe(0);
  return { cwd, matrix: await matrixOf(cwd), n: files.length };
}

async function matrixOf(cwd: string): Promise<unknown> {
  const r = await nicmatrix(['report', '--format', 'json'], { cwd });
  expect(r.exitCode, r.stderr).toBe(0);
  const { generatedAt: _, ...rest } = JSON.parse(r.stdout) as Record<string, unknown>;
  return rest;
}

/** Writes 2 KiB of (seeded) random bytes over the file at `at` (a fraction of its size). */
function damage(file: string, at: number, seed: number): void {
  const offset = Math.floor(statSync(file).size * at);
  const fd = openSync(file, 'r+');
  writeSync(fd, createRng(seed).bytes(2048), 0, 2048, offset);
  closeSync(fd);
}

function expectStoreError(r: { exitCode?: number; stderr: string }, path: string): void {
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain(`error [STORE]: ${path}: the matrix store is damaged`);
  expect(r.stderr).toContain(`nicmatrix store rebuild --store ${path}`);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('a damaged matrix store', () => {
  it('bytes over the middle: the site refuses with STORE, verify says damaged, rebuild brings back every verdict', async () => {
    const { cwd, matrix, n } = await populated('damage-mid');
    const path = join(cwd, STORE);
    damage(path, 0.5, 13);

    expectStoreError(await nicmatrix(['site', '--out', 'site'], { cwd }), path);
    const verify = await nicmatrix(['store', 'verify'], { cwd });
    expect([verify.exitCode, verify.stdout]).toEqual([2, `damaged: ${path}: ${n} run(s) stored, ${n} kept beside it`]);

    const rebuild = await nicmatrix(['store', 'rebuild'], { cwd });
    expect(rebuild.exitCode, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(new RegExp(`^rebuilt: ${path}: ${n} run\\(s\\) stored \\(${n} from kept records, 0 more`));
    expect(readdirSync(join(cwd, '.nicmatrix')).some((f) => /^matrix\.db\.damaged-.*Z$/.test(f))).toBe(true);

    const again = await nicmatrix(['store', 'verify'], { cwd });
    expect([again.exitCode, again.stdout]).toEqual([0, `sound: ${path}: ${n} run(s) stored, ${n} kept beside it`]);
    expect(await matrixOf(cwd)).toEqual(matrix);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('bytes over the header: not a database any more; rebuilt from the kept records alone', async () => {
    const { cwd, matrix, n } = await populated('damage-head');
    const path = join(cwd, STORE);
    damage(path, 0, 14);

    expectStoreError(await nicmatrix(['report', '--format', 'json'], { cwd }), path);
    const verify = await nicmatrix(['store', 'verify'], { cwd });
    expect(verify.exitCode).toBe(2);
    expect(verify.stdout).toMatch(/^damaged: /);

    const rebuild = await nicmatrix(['store', 'rebuild'], { cwd });
    expect(rebuild.exitCode, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toContain(`${n} run(s) stored (${n} from kept records, 0 more`);
    expect(await matrixOf(cwd)).toEqual(matrix);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('a store from before records were kept: rebuild salvages every run still readable in the file', async () => {
    const { cwd, matrix, n } = await populated('damage-unkept');
    const path = join(cwd, STORE);
    rmSync(`${path}.records`, { recursive: true });

    const verify = await nicmatrix(['store', 'verify'], { cwd });
    expect(verify.exitCode).toBe(0);
    expect(verify.stderr).toContain(`${n} run(s) have no kept copy`);

    const rebuild = await nicmatrix(['store', 'rebuild'], { cwd });
    expect(rebuild.exitCode, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toContain(`${n} run(s) stored (0 from kept records, ${n} more still readable in the old file)`);
    expect(existsSync(`${path}.records`)).toBe(true);
    expect(readdirSync(`${path}.records`)).toHaveLength(n);
    expect(await matrixOf(cwd)).toEqual(matrix);
    rmSync(cwd, { recursive: true, force: true });
  });
});
