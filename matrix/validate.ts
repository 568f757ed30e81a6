/**
 * Validation of run records against the published JSON Schema
 * (`run-record.schema.json`). Errors name the file and the JSON pointer of
 * each bad field, e.g. `run.json: /targets/0/results/3/status: must be one of pass, fail, ...`.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import schemaV1 from './run-record.schema.json' with { type: 'json' };
import { schemaV0 } from './schema-v0.js';
import { NicmatrixError } from './errors.js';
import type { RunRecord } from './record.js';

/** One field the schema refused. `pointer` is a JSON pointer (RFC 6901), `/` for the root. */
export interface SchemaIssue {
  pointer: string;
  message: string;
}

/** How many issues an error message lists before it says "and N more". */
const MAX_LISTED = 8;

// RFC 3339 date-time, the only format the schema uses (ajv-formats is not needed for one).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

let compiled: { v1: ValidateFunction; v0: ValidateFunction } | undefined;

function validators(): { v1: ValidateFunction; v0: ValidateFunction } {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', { type: 'string', validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
    ajv.addSchema(schemaV1);
    compiled = { v1: ajv.getSchema(schemaV1.$id) as ValidateFunction, v0: ajv.compile(schemaV0) };
  }
  return compiled;
}

function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Turns one ajv error into a pointer and a message a person can act on. */
function toIssue(e: ErrorObject): SchemaIssue {
  const base = e.instancePath;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { pointer: `${base}/${escapeToken(String(p.missingProperty))}`, message: 'is required but missing' };
    case 'additionalProperties':
      return {
        pointer: `${base}/${escapeToken(String(p.additionalProperty))}`,
        message: 'is not a field of this schema (misspelt or from another version?)',
      };
    case 'enum':
      return { pointer: base || '/', message: `must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
    case 'const':
      return { pointer: base || '/', message: `must be ${JSON.stringify(p.allowedValue)}` };
    default:
      return { pointer: base || '/', message: e.message ?? `fails ${e.keyword}` };
  }
}

function issuesOf(fn: ValidateFunction): SchemaIssue[] {
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const e of fn.errors ?? []) {
    const issue = toIssue(e);
    const key = `${issue.pointer}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  }
  return out;
}

/** Schema issues of a `nicmatrix.run/1` record; empty when it is valid. */
export function recordIssues(value: unknown): SchemaIssue[] {
  const fn = validators().v1;
  return fn(value) ? [] : issuesOf(fn);
}

/** Schema issues of a `nicmatrix.run/0` record (the predecessor shape). */
export function recordIssuesV0(value: unknown): SchemaIssue[] {
  const fn = validators().v0;
  return fn(value) ? [] : issuesOf(fn);
}

/** The one-line-per-issue text of a refusal, naming the file. */
export function formatIssues(file: string, issues: readonly SchemaIssue[]): string {
  const lines = issues.slice(0, MAX_LISTED).map((i) => `${file}: ${i.pointer}: ${i.message}`);
  if (issues.length > MAX_LISTED) lines.push(`${file}: and ${issues.length - MAX_LISTED} more schema errors`);
  return lines.join('\n');
}

/** Throws `RECORD_INVALID` naming `file` and every bad field unless `value` is a valid `nicmatrix.run/1` record. */
export function assertRecord(value: unknown, file: string): asserts value is RunRecord {
  const issues = recordIssues(value);
  if (issues.length > 0) {
    throw new NicmatrixError('RECORD_INVALID', formatIssues(file, issues), { details: { file, issues } });
  }
}
