/**
 * The matrix store: SQLite (better-sqlite3) holding every ingested run
 * record (as it arrived and in the current schema), its results as rows, and
 * the artifacts (pcaps) it referenced. One record is one transaction; WAL and
 * a busy timeout let several processes ingest at once without losing any.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readArtifacts } from './artifacts.js';
import { NicmatrixError } from './errors.js';
import { deviceKey } from './identity.js';
import { parseJson, upgradeRecord } from './migrate.js';
import type { RunRecord } from './record.js';
import { SCHEMA_SQL, STORE_VERSION } from './store-schema.js';

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
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > STORE_VERSION) {
        db.close();
        throw new NicmatrixError('STORE', `${path}: store format ${version} is newer than this nicmatrix understands (${STORE_VERSION})`, {
          details: { path },
        });
      }
      if (version < STORE_VERSION) db.transaction(() => db.exec(SCHEMA_SQL)).immediate();
    } catch (e) {
      if (e instanceof NicmatrixError) throw e;
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
      throw new NicmatrixError('RECORD_INVALID', `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        cause: e,
        details: { file },
      });
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
            .prepare(`INSERT INTO results (run_id, target, spec, device, kernel, check_id, variant, status, duration_ms, message)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
          record.targets.forEach((t, i) => {
            const key = deviceKey(t);
            for (const r of t.results)
              addResult.run(record.id, i, t.spec, key, t.kernel, r.check, r.variant, r.status, r.durationMs, r.message);
          });
          const addArtifact = this.db.prepare('INSERT INTO artifacts (run_id, path, sha256, data) VALUES (?, ?, ?, ?)');
          for (const [path, data] of artifacts) addArtifact.run(record.id, path, createHash('sha256').update(data).digest('hex'), data);
          return outcome('added');
        })
        .immediate();
    } catch (e) {
      if (e instanceof NicmatrixError) throw e;
      throw new NicmatrixError(
        'STORE',
        `${file}: storing run ${record.id} in ${this.path} failed, nothing was changed: ${(e as Error).message}`,
        { cause: e, details: { file } },
      );
    }
  }

  /** Every stored record in the current schema, oldest first. */
  records(): RunRecord[] {
    const rows = this.db.prepare('SELECT record FROM runs ORDER BY finished_at, id').all() as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as RunRecord);
  }

  record(id: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT record FROM runs WHERE id = ?').get(id) as { record: string } | undefined;
    return row && (JSON.parse(row.record) as RunRecord);
  }

  /** The record exactly as it was ingested (older schema versions included). */
  raw(id: string): string | undefined {
    return (this.db.prepare('SELECT raw FROM runs WHERE id = ?').get(id) as { raw: string } | undefined)?.raw;
  }

  runCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  }

  resultCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n;
  }

  /** The stored artifacts: run id, record-relative path, content hash, bytes. */
  *artifacts(): Generator<{ runId: string; path: string; sha256: string; data: Uint8Array }> {
    const rows = this.db.prepare('SELECT run_id AS runId, path, sha256, data FROM artifacts ORDER BY run_id, path').iterate();
    for (const row of rows) yield row as { runId: string; path: string; sha256: string; data: Uint8Array };
  }

  close(): void {
    this.db.close();
  }
}
