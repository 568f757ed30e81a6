/**
 * `nicmatrix store verify` and `store rebuild`: a damaged store file is found by SQLite's
 * integrity check plus the record schema of every stored record, and rebuilt from the
 * records the store keeps beside the file (and whatever rows are still readable), so no
 * verdict is lost. The damaged file is moved aside, never deleted.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, NicmatrixError } from './errors.js';
import { parseJson, upgradeRecord } from './migrate.js';
import { contentHash, isDamage, keptRecordsDir, type KeptRecord, MatrixStore } from './store.js';
import { recordIssues } from './validate.js';

export interface StoreVerdict {
  path: string;
  /** What SQLite's integrity check said other than "ok", or why it could not run. */
  integrity: string[];
  runs: number;
  /** Stored runs whose record is unreadable, fails the schema, or no longer matches its hash. */
  badRuns: { id: string; problem: string }[];
  /** Stored runs with no kept copy (ingested before copies were kept): rebuild while the file is readable. */
  unkept: string[];
  kept: number;
  /** Kept files that cannot be read back. */
  badKept: { file: string; problem: string }[];
}

export function storeIsSound(v: StoreVerdict): boolean {
  return v.integrity.length === 0 && v.badRuns.length === 0 && v.badKept.length === 0;
}

/** Checks the store at `path` without changing it. */
export function verifyStore(path: string): StoreVerdict {
  const verdict: StoreVerdict = { path, integrity: [], runs: 0, badRuns: [], unkept: [], kept: 0, badKept: [] };
  const kept = readKept(path, verdict.badKept);
  verdict.kept = kept.size;
  let store: MatrixStore;
  try {
    store = MatrixStore.open(path, { create: false });
  } catch (e) {
    verdict.integrity.push(`cannot open: ${describeError(e)}`);
    return verdict;
  }
  try {
    try {
      verdict.integrity.push(...store.integrityCheck().filter((l) => l !== 'ok'));
    } catch (e) {
      verdict.integrity.push(`integrity check failed: ${describeError(e)}`);
    }
    try {
      for (const row of store.storedRuns()) {
        verdict.runs++;
        const problem = storedRunProblem(row);
        if (problem) verdict.badRuns.push({ id: row.id, problem });
        if (!kept.has(row.hash)) verdict.unkept.push(row.id);
      }
    } catch (e) {
      verdict.integrity.push(`reading the runs stopped after ${verdict.runs}: ${describeError(e)}`);
    }
  } finally {
    store.close();
  }
  return verdict;
}

function storedRunProblem(row: { id: string; hash: string; raw: string; record: string }): string | undefined {
  let record: unknown;
  try {
    record = JSON.parse(row.record);
  } catch (e) {
    return `the stored record is not valid JSON: ${describeError(e)}`;
  }
  const issues = recordIssues(record);
  if (issues.length > 0) return `the stored record fails the schema: ${issues.map((i) => `${i.pointer}: ${i.message}`).join('; ')}`;
  if (contentHash(record as Parameters<typeof contentHash>[0]) !== row.hash) return 'the stored record no longer matches its hash';
  try {
    JSON.parse(row.raw);
  } catch (e) {
    return `the record as it arrived is not valid JSON any more: ${describeError(e)}`;
  }
  return undefined;
}

interface Recoverable {
  raw: string;
  source: string;
  artifacts: Map<string, Uint8Array>;
  from: 'kept' | 'file';
}

/** Kept records by content hash; a kept file that does not read back as the record it names is listed in `bad`. */
function readKept(path: string, bad: { file: string; problem: string }[]): Map<string, Recoverable> {
  const dir = keptRecordsDir(path);
  const out = new Map<string, Recoverable>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const file = join(dir, name);
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8')) as KeptRecord;
      if (kept.kind !== 'nicmatrix.kept-record/1')
        throw new NicmatrixError('STORE', `expected a kept record, found kind ${String(kept.kind)}`);
      const hash = contentHash(upgradeRecord(parseJson(kept.raw, file), file));
      if (`${hash}.json` !== name) throw new NicmatrixError('STORE', `its record hashes to ${hash}, not to its name`);
      const artifacts = new Map(Object.entries(kept.artifacts ?? {}).map(([p, b64]) => [p, Buffer.from(b64, 'base64')]));
      out.set(hash, { raw: kept.raw, source: kept.source, artifacts, from: 'kept' });
    } catch (e) {
      bad.push({ file, problem: describeError(e) });
    }
  }
  return out;
}

/** Rows still readable in a (possibly damaged) store file, with their artifacts where those read. */
function salvage(path: string, into: Map<string, Recoverable>, notes: string[]): number {
  if (!existsSync(path)) return 0;
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    notes.push(`the old file cannot be opened (${describeError(e)}); only kept records are used`);
    return 0;
  }
  let found = 0;
  try {
    for (const row of db.prepare('SELECT id, source, raw FROM runs').iterate() as IterableIterator<{
      id: string;
      source: string;
      raw: string;
    }>) {
      try {
        const hash = contentHash(upgradeRecord(parseJson(row.raw, row.source), row.source));
        if (into.has(hash)) continue;
        const artifacts = new Map<string, Uint8Array>();
        try {
          for (const a of db.prepare('SELECT path, data FROM artifacts WHERE run_id = ?').all(row.id) as {
            path: string;
            data: Uint8Array;
          }[])
            artifacts.set(a.path, a.data);
        } catch (e) {
          notes.push(`run ${row.id}: its pcaps are not readable in the old file (${describeError(e)})`);
        }
        into.set(hash, { raw: row.raw, source: row.source, artifacts, from: 'file' });
        found++;
      } catch (e) {
        notes.push(`run ${row.id} in the old file is not a readable record: ${describeError(e)}`);
      }
    }
  } catch (e) {
    notes.push(`reading the old file stopped (${isDamage(e) ? 'damaged' : 'error'}: ${describeError(e)}) after ${found} salvaged run(s)`);
  } finally {
    db.close();
  }
  return found;
}

export interface RebuildOutcome {
  path: string;
  /** Where the old file went (undefined when there was none). */
  movedTo?: string;
  fromKept: number;
  fromFile: number;
  stored: number;
  refused: { source: string; problem: string }[];
  notes: string[];
}

/** Rebuilds the store at `path` from its kept records and the readable rows of the old file. */
export function rebuildStore(path: string, now: Date = new Date()): RebuildOutcome {
  const badKept: { file: string; problem: string }[] = [];
  const sources = readKept(path, badKept);
  const notes = badKept.map((b) => `kept record ${b.file} is unreadable: ${b.problem}`);
  const fromKept = sources.size;
  const fromFile = salvage(path, sources, notes);
  let movedTo: string | undefined;
  if (existsSync(path)) {
    movedTo = `${path}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(path, movedTo);
    for (const side of ['-wal', '-shm']) if (existsSync(path + side)) renameSync(path + side, movedTo + side);
  }
  const store = MatrixStore.open(path);
  const refused: RebuildOutcome['refused'] = [];
  let stored = 0;
  try {
    for (const r of sources.values()) {
      try {
        store.ingestRaw(r.raw, r.source, r.artifacts);
        stored++;
      } catch (e) {
        refused.push({ source: r.source, problem: describeError(e) });
      }
    }
  } finally {
    store.close();
  }
  return { path, movedTo, fromKept, fromFile, stored, refused, notes };
}
