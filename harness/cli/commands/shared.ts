/** What the commands share: target spec checks, progress, the store, the seed. */
import { randomInt } from 'node:crypto';
import os from 'node:os';
import { parseTargetSpec } from '../../../drivers/spec.js';
import { aggregate } from '../../../matrix/aggregate.js';
import { DEFAULT_STORE_PATH, MatrixStore, resolveStorePath } from '../../../matrix/store.js';
import type { ReportInput } from '../../../reports/types.js';
import { checkDefinitions } from '../../checks/registry.js';
import { isNicmatrixError, NicmatrixError } from '../../codec/errors.js';
import { defaultJobs } from '../../run/defaults.js';
import type { RunListener } from '../../run/listener.js';
import type { CommandIO } from './command.js';
import { lineProgress } from '../progress/lines.js';
import { ttyProgress } from '../progress/tty.js';

/** Parses a target spec now, so a typo is a usage error before anything starts; QEMU models are checked too. */
export async function checkTargetSpec(spec: string, where = 'target'): Promise<void> {
  let parsed;
  try {
    parsed = parseTargetSpec(spec);
  } catch (e) {
    if (isNicmatrixError(e, 'TARGET_SPEC') && where !== 'target')
      throw new NicmatrixError('TARGET_SPEC', `${where}: ${e.message}`, { cause: e });
    throw e;
  }
  if (parsed.kind === 'qemu') {
    const { findQemuModel, QEMU_MODELS } = await import('../../../drivers/qemu/catalogue.js');
    if (!findQemuModel(parsed.model))
      throw new NicmatrixError(
        'TARGET_SPEC',
        `${where} "${spec}": unknown QEMU model "${parsed.model}"; expected one of: ${QEMU_MODELS.map((m) => m.model).join(', ')}`,
      );
  }
}

export function progressFor(io: CommandIO, verbose: boolean): RunListener {
  return io.interactive ? ttyProgress(process.stderr) : lineProgress((l) => io.err(l), verbose);
}

/** A whole-number option (`--jobs`, `--repeat`…) of at least `min`; `fallback` when it is not given. */
export function wholeNumber(option: string, value: string | undefined, min: number, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < min) throw new NicmatrixError('USAGE', `--${option}: expected a whole number ≥ ${min}, found "${value}"`);
  return n;
}

/** `--seed N`, or a random seed when it is not given (the record keeps it, so the run can be repeated). */
export function parseSeed(value: string | undefined): number {
  return value === undefined ? randomInt(2 ** 31) : wholeNumber('seed', value, 0, 0);
}

/** `--jobs N`, by default one per core. */
export function parseJobs(value: string | undefined): number {
  return wholeNumber('jobs', value, 1, defaultJobs(os.cpus().length));
}

/**
 * Adds record files to the store unless `--no-store`; the files are already written, so a refusal loses nothing.
 * `name` says each file in the line that reports it (`lab: FILE`, `run record`).
 */
export function addToStore(
  values: { store?: string; 'no-store'?: boolean },
  files: string[],
  io: CommandIO,
  name: (file: string) => string,
): void {
  if (values['no-store'] || files.length === 0) return;
  const path = resolveStorePath(values.store);
  const store = MatrixStore.open(path);
  try {
    for (const f of files) {
      const outcome = store.ingestFile(f);
      io.err(`${name(f)} ${outcome.status === 'added' ? 'added to' : 'already in'} the store ${path}`);
    }
  } finally {
    store.close();
  }
}

/** The usage line of `--store`, the same in every command that reads the store. */
export const STORE_HELP = `  --store PATH    matrix store (SQLite; default: ${DEFAULT_STORE_PATH} under the current directory)`;

/** Every run in an existing store, with its pcaps, aggregated. */
export function loadStore(storeOption: string | undefined, opts: { latest?: boolean; artifacts?: boolean } = {}): ReportInput {
  const path = resolveStorePath(storeOption);
  const store = MatrixStore.open(path, { create: false });
  try {
    let runs = store.records();
    if (opts.latest) runs = runs.slice(-1);
    const artifacts = opts.artifacts ? [...store.artifacts()] : [];
    return {
      runs,
      matrix: aggregate(runs),
      generatedAt: new Date().toISOString(),
      source: path,
      artifacts,
      definitions: checkDefinitions(),
    };
  } finally {
    store.close();
  }
}

export const STORE_OPTIONS_HELP = [
  '  --store PATH    matrix store the record(s) are added to (default: .nicmatrix/matrix.db)',
  '  --no-store      do not add the record(s) to a store',
];
