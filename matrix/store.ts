/**
 * The matrix store: SQLite (better-sqlite3) holding every ingested run
 * record (as it arrived and in the current schema), its results as rows, and
 * the artifacts (pcaps) it referenced. One record is one transaction; WAL and
 * a busy timeout let several processes ingest at once without losing any.
 * Every record is also kept as a file beside the database (`<store>.records/`),
 * written in the same transaction, so a damaged database file loses no verdict:
 * `nicmatrix store rebuild` re-ingests them (store-repair.ts).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readArtifacts } from './artifacts.js';
import { NicmatrixError, unreadableFile } from './errors.js';
import { deviceKey } from './identity.js';
import { parseJson, upgradeRecord } from './migrate.js';
import type { ResultRecord, RunRecord } from './record.js';
import { flakyOf } from './levels.js';
import { MIGRATE_1_TO_2_SQL, SCHEMA_SQL, STORE_VERSION } from './store-schema.js';

/** Where the store lives unless `--store PATH` says otherwise, relative to the current directory. */
export const DEFAULT_STORE_PATH = '.nicmatrix/matrix.db';

/** How long a writer waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 30_000;

export interface IngestOutcome {
  id: string;
  file: string;
  /** `added`: stored now; `unchanged`: the same record was already there. */
  status: 'added' | 'unchanged';
  artifacts: number;
  missingArtifacts: { path: string; reason: string }[];
}

/** The store path for an optional `--store` value. */
export function resolveStorePath(path?: string, cwd: string = process.cwd()): string {
  return resolve(cwd, path ?? DEFAULT_STORE_PATH);
}

/** JSON with object keys sorted, so equal records hash equal whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined);
    return `{${entries.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function contentHash(record: RunRecord): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** Directory of the kept record files of the store at `path`. */
export function keptRecordsDir(path: string): string {
  return `${path}.records`;
}

/** One ingested record as kept beside the database: the bytes as they arrived, where from, and its pcaps. */
export interface KeptRecord {
  kind: 'nicmatrix.kept-record/1';
  id: string;
  source: string;
  ingestedAt: string;
  /** The record exactly as it arrived (older schema versions included). */
  raw: string;
  /** Record-relative path → base64 bytes. */
  artifacts: Record<string, string>;
}

/** What to do about a damaged store, said the same way by every error that finds one. */
export function repairAdvice(path: string): string {
  return (
    `run \`nicmatrix store verify --store ${path}\` to see what is damaged, then \`nicmatrix store rebuild --store ${path}\`: ` +
    `it rebuilds the store from the run records kept in ${keptRecordsDir(path)} (and what is still readable in the file) and keeps the damaged file aside`
  );
}

/** SQLite's own word that the file is not (or no longer) a sound database. */
export function isDamage(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** The STORE error for a damaged file: names the file, what failed, and the way out. */
export function damagedStore(path: string, what: string, cause: unknown): NicmatrixError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new NicmatrixError('STORE', `${path}: the matrix store is damaged (${what}: ${why}); ${repairAdvice(path)}`, {
    cause,
    details: { path, kept: keptRecordsDir(path), sqlite: (cause as { code?: unknown } | null)?.code },
  });
}

/** One verdict whose attempts disagreed, as `store flaky` lists it. */
export interface FlakyRow {
  runId: string;
  finishedAt: string;
  spec: string;
  device: string;
  kernel: string;
  checkId: string;
  variant: string;
  status: string;
  attempts: number;
  passes: number;
  message: string;
}

/** Attempts behind a verdict, and its passes when they disagreed (`evidence.flaky` of the runner's combineAttempts). */
function attemptsOf(r: ResultRecord): { attempts: number; passes: number | null } {
  const f = flakyOf(r.evidence);
  if (f) return { attempts: f.attempts, passes: f.passes };
  return { attempts: Array.isArray(r.evidence.attempts) ? Math.max(1, r.evidence.attempts.length) : 1, passes: null };
}

/**
 * Runs `fn` again while SQLite says SQLITE_BUSY, up to BUSY_TIMEOUT_MS:
 * switching to WAL while another process creates the same store fails at
 * once instead of calling the busy handler.
 */
function whileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/** Format 1 → 2: the attempt columns, filled from every stored record. */
function migrateFrom1(db: Database.Database): void {
  db.exec(MIGRATE_1_TO_2_SQL);
  const set = db.prepare('UPDATE results SET attempts = ?, passes = ? WHERE run_id = ? AND target = ? AND check_id = ? AND variant = ?');
  for (const row of db.prepare('SELECT id, record FROM runs').all() as { id: string; record: string }[]) {
    let record: RunRecord;
    try {
      record = JSON.parse(row.record) as RunRecord;
    } catch {
      // A damaged record keeps the defaults; `store verify` names it and `store rebuild` restores it.
      continue;
    }
    record.targets.forEach((t, i) => {
      for (const r of t.results) {
        const a = attemptsOf(r);
        if (a.attempts !== 1 || a.passes !== null) set.run(a.attempts, a.passes, row.id, i, r.check, r.variant);
      }
    });
  }
  db.pragma(`user_version = ${STORE_VERSION}`);
}

export class MatrixStore {
  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  /** Opens (creating when `create`, the default) the store at `path`. */
  static open(path: string = resolveStorePath(), opts: { create?: boolean } = {}): MatrixStore {
    const create = opts.create ?? true;
    if (!create && !existsSync(path)) {
      throw new NicmatrixError('STORE', `no matrix store at ${path}: ingest run records first (nicmatrix ingest FILE… or nicmatrix run)`, {
        details: { path },
      });
    }
    let db: Database.Database;
    try {
      if (create) mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { fileMustExist: !create, timeout: BUSY_TIMEOUT_MS });
      const opened = db;
      whileBusy(() => opened.pragma('journal_mode = WAL'));
      db.pragma('foreign_keys = ON');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > STORE_VERSION) {
        db.close();
        throw new NicmatrixError('STORE', `${path}: store format ${version} is newer than this nicmatrix understands (${STORE_VERSION})`, {
          details: { path },
        });
      }
      if (version === 1) db.transaction(() => migrateFrom1(db)).immediate();
      else if (version < STORE_VERSION) db.transaction(() => db.exec(SCHEMA_SQL)).immediate();
    } catch (e) {
      if (e instanceof NicmatrixError) throw e;
      if (isDamage(e)) throw damagedStore(path, 'opening it', e);
      throw new NicmatrixError('STORE', `cannot open the matrix store at ${path}: ${(e as Error).message}`, {
        cause: e,
        details: { path },
      });
    }
    return new MatrixStore(path, db);
  }

  /** Reads, validates and stores one record file with the artifacts it references. */
  ingestFile(file: string): IngestOutcome {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw unreadableFile(file, file, e, 'RECORD_INVALID');
    }
    const value = parseJson(text, file);
    const record = upgradeRecord(value, file);
    const { found, missing } = readArtifacts(record, file);
    return this.store(record, value, text, file, found, missing);
  }

  /** Validates and stores a record already in memory (the `run` command's own). */
  ingest(value: unknown, source: string, artifacts: Map<string, Uint8Array> = new Map()): IngestOutcome {
    const record = upgradeRecord(value, source);
    return this.store(record, value, JSON.stringify(value), source, artifacts, []);
  }

  /** Validates and stores a record from its original text (a kept record being re-ingested). */
  ingestRaw(raw: string, source: string, artifacts: Map<string, Uint8Array> = new Map()): IngestOutcome {
    const value = parseJson(raw, source);
    const record = upgradeRecord(value, source);
    return this.store(record, value, raw, source, artifacts, []);
  }

  /** Writes the kept copy of a record (atomically: a reader never sees half a file); same content, same name. */
  private keep(hash: string, kept: KeptRecord): void {
    const dir = keptRecordsDir(this.path);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${hash}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(kept));
    renameSync(tmp, file);
  }

  private store(
    record: RunRecord,
    value: unknown,
    raw: string,
    file: string,
    artifacts: Map<string, Uint8Array>,
    missing: IngestOutcome['missingArtifacts'],
  ): IngestOutcome {
    const hash = contentHash(record);
    const outcome = (status: IngestOutcome['status']): IngestOutcome => ({
      id: record.id,
      file,
      status,
      artifacts: artifacts.size,
      missingArtifacts: missing,
    });
    try {
      return this.db
        .transaction((): IngestOutcome => {
          const existing = this.db.prepare('SELECT hash, source FROM runs WHERE id = ?').get(record.id) as
            { hash: string; source: string } | undefined;
          if (existing?.hash === hash) return outcome('unchanged');
          if (existing) {
            throw new NicmatrixError(
              'STORE',
              `${file}: run ${record.id} is already stored with different content (from ${existing.source}); a run id must not be reused`,
              { details: { file, id: record.id } },
            );
          }
          this.db
            .prepare(
              `INSERT INTO runs (id, hash, schema, started_at, finished_at, hostname, source, ingested_at, raw, record)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              record.id,
              hash,
              String((value as { schema: unknown }).schema),
              record.startedAt,
              record.finishedAt,
              record.host.hostname,
              file,
              new Date().toISOString(),
              raw,
              JSON.stringify(record),
            );
          const addResult = this.db
            .prepare(`INSERT INTO results (run_id, target, spec, device, kernel, check_id, variant, status, duration_ms, message, attempts, passes)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
          record.targets.forEach((t, i) => {
            const key = deviceKey(t);
            for (const r of t.results) {
              const a = attemptsOf(r);
              addResult.run(
                record.id,
                i,
                t.spec,
                key,
                t.kernel,
                r.check,
                r.variant,
                r.status,
                r.durationMs,
                r.message,
                a.attempts,
                a.passes,
              );
            }
          });
          const addArtifact = this.db.prepare('INSERT INTO artifacts (run_id, path, sha256, data) VALUES (?, ?, ?, ?)');
          for (const [path, data] of artifacts) addArtifact.run(record.id, path, createHash('sha256').update(data).digest('hex'), data);
          // Kept before the commit: a record the database holds always has its copy (a failed write rolls the rows back).
          this.keep(hash, {
            kind: 'nicmatrix.kept-record/1',
            id: record.id,
            source: file,
            ingestedAt: new Date().toISOString(),
            raw,
            artifacts: Object.fromEntries([...artifacts].map(([p, d]) => [p, Buffer.from(d).toString('base64')])),
          });
          return outcome('added');
        })
        .immediate();
    } catch (e) {
      if (e instanceof NicmatrixError) throw e;
      if (isDamage(e)) throw damagedStore(this.path, `storing run ${record.id} from ${file}, nothing was changed`, e);
      throw new NicmatrixError(
        'STORE',
        `${file}: storing run ${record.id} in ${this.path} failed, nothing was changed: ${(e as Error).message}`,
        { cause: e, details: { file } },
      );
    }
  }

  /** Runs a read; SQLite's corruption errors become the STORE error that says what to do. */
  private read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (isDamage(e)) throw damagedStore(this.path, what, e);
      throw e;
    }
  }

  /** A stored record's JSON; bytes changed inside the file can leave it unreadable without SQLite noticing. */
  private parseStored(id: string, text: string): RunRecord {
    try {
      return JSON.parse(text) as RunRecord;
    } catch (e) {
      throw damagedStore(this.path, `run ${id}: the stored record is not valid JSON`, e);
    }
  }

  /** Every stored record in the current schema, oldest first. */
  records(): RunRecord[] {
    const rows = this.read('reading the runs', () => this.db.prepare('SELECT id, record FROM runs ORDER BY finished_at, id').all()) as {
      id: string;
      record: string;
    }[];
    return rows.map((r) => this.parseStored(r.id, r.record));
  }

  record(id: string): RunRecord | undefined {
    const row = this.read(`reading run ${id}`, () => this.db.prepare('SELECT record FROM runs WHERE id = ?').get(id)) as
      { record: string } | undefined;
    return row && this.parseStored(id, row.record);
  }

  /** The record exactly as it was ingested (older schema versions included). */
  raw(id: string): string | undefined {
    return this.read(`reading run ${id}`, () => this.db.prepare('SELECT raw FROM runs WHERE id = ?').get(id) as { raw: string } | undefined)
      ?.raw;
  }

  runCount(): number {
    return this.read('counting the runs', () => this.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  }

  resultCount(): number {
    return this.read('counting the results', () => this.db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n;
  }

  /** Verdicts whose attempts disagreed, newest run first: the cells a lab watches for flakiness. */
  flakyResults(): FlakyRow[] {
    return this.read(
      'reading the flaky verdicts',
      () =>
        this.db
          .prepare(
            `SELECT r.run_id AS runId, runs.finished_at AS finishedAt, r.spec, r.device, r.kernel, r.check_id AS checkId, r.variant,
              r.status, r.attempts, r.passes, r.message
            FROM results r JOIN runs ON runs.id = r.run_id WHERE r.passes IS NOT NULL
            ORDER BY runs.finished_at DESC, r.device, r.check_id, r.variant`,
          )
          .all() as FlakyRow[],
    );
  }

  /** The stored artifacts: run id, record-relative path, content hash, bytes. */
  *artifacts(): Generator<{ runId: string; path: string; sha256: string; data: Uint8Array }> {
    const rows = this.read('reading the artifacts', () =>
      this.db.prepare('SELECT run_id AS runId, path, sha256, data FROM artifacts ORDER BY run_id, path').all(),
    );
    for (const row of rows) yield row as { runId: string; path: string; sha256: string; data: Uint8Array };
  }

  /** Rows for `store verify`: every run's id, hash and stored texts (read lazily; a damaged page stops the walk). */
  *storedRuns(): Generator<{ id: string; hash: string; source: string; raw: string; record: string }> {
    const rows = this.db.prepare('SELECT id, hash, source, raw, record FROM runs ORDER BY finished_at, id').iterate();
    for (const row of rows) yield row as { id: string; hash: string; source: string; raw: string; record: string };
  }

  /** SQLite's own integrity check: `['ok']` for a sound file, otherwise what it found. */
  integrityCheck(): string[] {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  close(): void {
    this.db.close();
  }
}
