/** Runs the real `nicmatrix` binary the way a user does (built dist/, as root). */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunRecord } from '../../matrix/record.js';

export const BIN = path.resolve(import.meta.dirname, '../../bin/nicmatrix.js');

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nicmatrix-${prefix}-`));
}

/** Runs the CLI; by default in a fresh directory, so its default store and outputs never touch the repo. */
export async function nicmatrix(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}) {
  const sub = execa(process.execPath, [BIN, ...args], {
    reject: false,
    timeout: opts.timeoutMs ?? 600_000,
    cwd: opts.cwd ?? tmpDir('cwd'),
    env: { CI: 'true' },
    stdin: 'ignore',
  });
  // The pid names what the run created (nm-<pid>-…), for leftover checks.
  const pid = sub.pid ?? -1;
  return Object.assign(await sub, { pid });
}

export function readRecord(file: string): RunRecord {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
}

/** Verdicts as `target check [variant] status` lines, for readable assertions. */
export function verdictLines(record: RunRecord): string[] {
  return record.targets.flatMap((t) => t.results.map((r) => `${t.spec} ${r.check} [${r.variant}] ${r.status}`));
}
