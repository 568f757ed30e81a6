/** A whole run: targets in parallel (up to `jobs`), one run record, written as it grows. */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { RUN_RECORD_SCHEMA, type RunRecord, type TargetRecord } from '../../matrix/record.js';
import type { Check } from '../checks/types.js';
import { toolVersion } from '../sys/paths.js';
import type { RunListener } from './listener.js';
import { pcapDirFor, writeRecord } from './record-file.js';
import { runTarget } from './target.js';

export interface RunOptions {
  targets: string[];
  checks: Check[];
  checkGlobs: string[];
  seed: number;
  jobs: number;
  /** Where the run record goes; its pcaps go beside it. */
  out?: string;
  argv: string[];
  signal: AbortSignal;
  listener?: RunListener;
  /** Attempts of every variant, and extra attempts of a failed one (`--repeat`, `--retry-failed`). */
  repeat?: number;
  retryFailed?: number;
}

export function hostInfo(): RunRecord['host'] {
  return {
    hostname: os.hostname(),
    kernel: os.release(),
    // As `uname -m` spells it (x86_64, aarch64), not Node's names (x64, arm64).
    arch: os.machine(),
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.version()}`,
  };
}

export async function runMatrix(opts: RunOptions): Promise<RunRecord> {
  const listener = opts.listener ?? {};
  const record: RunRecord = {
    schema: RUN_RECORD_SCHEMA,
    id: randomUUID(),
    startedAt: new Date().toISOString(),
    finishedAt: '',
    tool: { name: 'nicmatrix', version: toolVersion },
    host: hostInfo(),
    invocation: { argv: opts.argv, checks: opts.checkGlobs, seed: opts.seed },
    targets: [],
  };
  listener.onRunStart?.({ id: record.id, targets: opts.targets, checks: opts.checks.map((c) => c.id), seed: opts.seed, jobs: opts.jobs });
  const slots: (TargetRecord | undefined)[] = opts.targets.map(() => undefined);
  // Each finished target is written at once: an interrupt or crash later loses nothing already judged.
  let writing = Promise.resolve();
  const persist = () => {
    record.targets = slots.filter((t): t is TargetRecord => t !== undefined);
    record.finishedAt = new Date().toISOString();
    const snapshot = structuredClone(record);
    writing = writing.then(() => (opts.out ? writeRecord(opts.out, snapshot) : undefined));
    return writing;
  };
  const pcapDir = opts.out ? pcapDirFor(opts.out) : undefined;
  const recordDir = opts.out ? path.dirname(opts.out) : undefined;
  let next = 0;
  const worker = async () => {
    while (next < opts.targets.length) {
      // Taken with no await since the bound was checked: i < opts.targets.length.
      const i = next++;
      if (opts.signal.aborted) break;
      slots[i] = await runTarget(opts.targets[i]!, {
        checks: opts.checks,
        runSeed: opts.seed,
        signal: opts.signal,
        listener,
        pcapDir,
        recordDir,
        repeat: opts.repeat,
        retryFailed: opts.retryFailed,
      });
      await persist();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, opts.targets.length)) }, worker));
  await persist();
  listener.onRunEnd?.(record, opts.out);
  return record;
}
