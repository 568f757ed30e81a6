/**
 * Schema versions of run records: the current one is validated as is, an
 * older one is validated against its own schema and migrated step by step to
 * the current shape, a newer one is refused with `RECORD_VERSION`.
 */
import { NicmatrixError } from './errors.js';
import { RUN_RECORD_SCHEMA, RUN_RECORD_SCHEMA_VERSION, type ResultRecord, type RunRecord, type TargetRecord } from './record.js';
import { RUN_RECORD_SCHEMA_V0, type TargetRecordV0 } from './schema-v0.js';
import { assertRecord, formatIssues, recordIssuesV0 } from './validate.js';

const SCHEMA_FIELD = /^nicmatrix\.run\/(\d+)$/;

/** The schema version a record declares, or undefined when its `schema` field is not ours. */
export function schemaVersionOf(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const schema = (value as { schema?: unknown }).schema;
  const m = typeof schema === 'string' ? SCHEMA_FIELD.exec(schema) : null;
  return m ? Number(m[1]) : undefined;
}

/** v0 → v1: the flat `model`/`pciId` become `device`; `dimensions` and target `evidence` start empty. */
export function migrateV0(record: Record<string, unknown>): Record<string, unknown> {
  const targets = (record.targets as TargetRecordV0[]).map((t): TargetRecord => {
    const { model, pciId, ...rest } = t;
    const description = model ? `QEMU ${model}` : pciId ? `PCI ${pciId}` : t.spec;
    const device = { ...(model ? { model } : {}), ...(pciId ? { pciId } : {}), description };
    return { ...rest, device, dimensions: {}, evidence: {}, results: t.results as ResultRecord[] };
  });
  return { ...record, schema: RUN_RECORD_SCHEMA, targets };
}

/**
 * Validates a parsed record of any known version and returns it in the
 * current shape. `file` names the source in every error message.
 */
export function upgradeRecord(value: unknown, file: string): RunRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const found = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    throw new NicmatrixError('RECORD_INVALID', `${file}: /: must be a run record object, found ${found}`, { details: { file } });
  }
  const version = schemaVersionOf(value);
  if (version === undefined) {
    const found = JSON.stringify((value as { schema?: unknown }).schema) ?? 'nothing';
    throw new NicmatrixError(
      'RECORD_INVALID',
      `${file}: /schema: must be "nicmatrix.run/N" (current ${RUN_RECORD_SCHEMA}), found ${found}`,
      {
        details: { file, issues: [{ pointer: '/schema', message: 'not a nicmatrix run record schema' }] },
      },
    );
  }
  if (version > RUN_RECORD_SCHEMA_VERSION) {
    throw new NicmatrixError(
      'RECORD_VERSION',
      `${file}: /schema: nicmatrix.run/${version} is newer than this nicmatrix understands (up to ${RUN_RECORD_SCHEMA}); upgrade nicmatrix to read it`,
      { details: { file, version } },
    );
  }
  let current: unknown = value;
  if (version === 0) {
    const issues = recordIssuesV0(current);
    if (issues.length > 0) {
      throw new NicmatrixError('RECORD_INVALID', formatIssues(`${file} (${RUN_RECORD_SCHEMA_V0})`, issues), { details: { file, issues } });
    }
    current = migrateV0(current as Record<string, unknown>);
  }
  assertRecord(current, file);
  return current;
}

/** Parses record text; a syntax error is `RECORD_INVALID` naming the file. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new NicmatrixError('RECORD_INVALID', `${file}: not valid JSON: ${(e as Error).message}`, { cause: e, details: { file } });
  }
}

/** Parses record text (JSON) and upgrades it to the current schema. */
export function parseRecord(text: string, file: string): RunRecord {
  return upgradeRecord(parseJson(text, file), file);
}
