/**
 * SQL of the matrix store, format 2. `user_version` records the format so a
 * later nicmatrix can migrate the database and an older one refuses a newer.
 * Format 2 added the attempts of a verdict (`--repeat`, `--retry-failed`).
 */
export const STORE_VERSION = 2;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS runs (
  id          TEXT PRIMARY KEY,
  hash        TEXT NOT NULL,           -- sha256 of the canonical current-schema record
  schema      TEXT NOT NULL,           -- schema the record arrived in
  started_at  TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  hostname    TEXT NOT NULL,
  source      TEXT NOT NULL,           -- file (or producer) it came from
  ingested_at TEXT NOT NULL,
  raw         TEXT NOT NULL,           -- the record exactly as it arrived
  record      TEXT NOT NULL            -- the record migrated to the current schema
);
CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished_at);
CREATE TABLE IF NOT EXISTS results (
  run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  target      INTEGER NOT NULL,
  spec        TEXT NOT NULL,
  device      TEXT NOT NULL,
  kernel      TEXT NOT NULL,
  check_id    TEXT NOT NULL,
  variant     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'unsupported', 'skip', 'error')),
  duration_ms REAL NOT NULL,
  message     TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 1,  -- attempts behind the verdict
  passes      INTEGER                      -- of them passed, when they disagreed (flaky); NULL otherwise
);
CREATE INDEX IF NOT EXISTS results_cell ON results (device, check_id, kernel);
CREATE INDEX IF NOT EXISTS results_run ON results (run_id);
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  path   TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  data   BLOB NOT NULL,
  PRIMARY KEY (run_id, path)
);
PRAGMA user_version = ${STORE_VERSION};
`;

/** From format 1: the attempt columns (filled from the stored records by the store as it migrates). */
export const MIGRATE_1_TO_2_SQL = `
ALTER TABLE results ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE results ADD COLUMN passes INTEGER;
`;
