/**
 * Qualification profiles: declarative files saying which checks and variants
 * a device must pass, with which verdicts and evidence, to earn a level.
 * Parsing and validation only (pure): every refusal names the file and the
 * JSON pointer of the field. The three shipped profiles live in `profiles/`.
 */
import baseline from './profiles/baseline.json' with { type: 'json' };
import full from './profiles/full.json' with { type: 'json' };
import offload from './profiles/offload.json' with { type: 'json' };
import { NicmatrixError } from './errors.js';
import { LEVELS, type Level } from './levels.js';
import type { Status } from './record.js';

export const PROFILE_SCHEMA = 'nicmatrix.profile/1';

/** A fact a passing result's evidence must show, e.g. `delivery` equals `complete`. */
export interface EvidenceCondition {
  /** Dot path into the result's evidence, e.g. `delivery` or `counters.nstat.UdpInCsumErrors`. */
  path: string;
  /** The value must be exactly this (one of `equals` and `matches`). */
  equals?: string | number | boolean | null;
  /** The value, as text, must match this regular expression, e.g. `^[1-9][0-9]* of ` for "96 of 100". */
  matches?: string;
  /** Why the condition matters, shown when it is not met. */
  why: string;
}

export interface Requirement {
  /** Stable id, unique in the resolved profile. */
  id: string;
  title: string;
  /** Check id globs (`*` any run, `?` one character). */
  checks: string[];
  /** Variant name globs; all variants when absent. */
  variants?: string[];
  /** Verdicts that meet the requirement (default `pass`); `skip` results never count against it. */
  accept?: Status[];
  evidence?: EvidenceCondition[];
  /** Support levels (`levels.ts`) each covered check's cell must have, e.g. `["offloaded"]`: the matrix's own words. */
  levels?: Level[];
}

/** A profile as written; `extends` names a shipped profile whose requirements come first. */
export interface ProfileSource {
  schema: typeof PROFILE_SCHEMA;
  name: string;
  title: string;
  description?: string;
  extends?: string;
  requirements: Requirement[];
}

/** A profile with its `extends` chain resolved into one list of requirements. */
export interface Profile {
  name: string;
  title: string;
  description: string;
  /** Where it came from: `shipped:NAME` or the file path. */
  source: string;
  /** The chain of profiles it includes, outermost last, e.g. `['baseline', 'offload']`. */
  chain: string[];
  requirements: Requirement[];
}

export interface ProfileIssue {
  pointer: string;
  message: string;
}

const SHIPPED: Record<string, unknown> = { baseline, offload, full };

/** Names of the profiles nicmatrix ships, weakest first. */
export const SHIPPED_PROFILES: readonly string[] = ['baseline', 'offload', 'full'];

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const REQ_ID = /^[a-z0-9][a-z0-9._-]{0,79}$/;
const CHECK_GLOB = /^[a-z0-9*?][a-z0-9*?._-]*(\/[a-z0-9*?][a-z0-9*?._-]*)*$/;
const EVIDENCE_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const ACCEPTABLE: readonly Status[] = ['pass', 'unsupported', 'skip'];
const TOP_FIELDS = ['schema', 'name', 'title', 'description', 'extends', 'requirements'];
const REQ_FIELDS = ['id', 'title', 'checks', 'variants', 'accept', 'evidence', 'levels'];
const COND_FIELDS = ['path', 'equals', 'matches', 'why'];

const isRegExp = (v: unknown): boolean => {
  if (typeof v !== 'string' || v === '') return false;
  try {
    new RegExp(v);
    return true;
  } catch {
    return false;
  }
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

function unknownFields(value: Record<string, unknown>, allowed: readonly string[], at: string, issues: ProfileIssue[]): void {
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k))
      issues.push({ pointer: `${at}/${k}`, message: `is not a field of a profile (expected one of ${allowed.join(', ')})` });
  }
}

function text(
  value: unknown,
  at: string,
  issues: ProfileIssue[],
  opts: { pattern?: RegExp; what?: string; optional?: boolean } = {},
): void {
  if (value === undefined && opts.optional) return;
  if (typeof value !== 'string' || value.trim() === '') {
    issues.push({ pointer: at, message: `must be a non-empty string, found ${show(value)}` });
  } else if (opts.pattern && !opts.pattern.test(value)) {
    issues.push({ pointer: at, message: `must be ${opts.what ?? `like ${opts.pattern.source}`}, found ${show(value)}` });
  }
}

function stringList(value: unknown, at: string, issues: ProfileIssue[], pattern: RegExp, what: string, optional = false): void {
  if (value === undefined && optional) return;
  if (!Array.isArray(value) || value.length === 0) {
    issues.push({ pointer: at, message: `must be a non-empty list of ${what}, found ${show(value)}` });
    return;
  }
  value.forEach((v, i) => text(v, `${at}/${i}`, issues, { pattern, what }));
}

function requirementIssues(r: unknown, at: string, issues: ProfileIssue[]): void {
  if (!isObject(r)) {
    issues.push({ pointer: at, message: `must be a requirement object, found ${show(r)}` });
    return;
  }
  unknownFields(r, REQ_FIELDS, at, issues);
  text(r.id, `${at}/id`, issues, { pattern: REQ_ID, what: 'lowercase letters, digits, ".", "_" or "-"' });
  text(r.title, `${at}/title`, issues);
  stringList(r.checks, `${at}/checks`, issues, CHECK_GLOB, 'check id globs such as "tx-csum/*"');
  stringList(r.variants, `${at}/variants`, issues, /^\S+$/, 'variant name globs such as "offload-on"', true);
  if (r.accept !== undefined) {
    if (!Array.isArray(r.accept) || r.accept.length === 0)
      issues.push({ pointer: `${at}/accept`, message: `must be a non-empty list of verdicts, found ${show(r.accept)}` });
    else
      r.accept.forEach((s, i) => {
        if (!ACCEPTABLE.includes(s as Status))
          issues.push({
            pointer: `${at}/accept/${i}`,
            message: `must be one of ${ACCEPTABLE.join(', ')} (fail and error never meet a requirement), found ${show(s)}`,
          });
      });
  }
  if (r.levels !== undefined) {
    if (!Array.isArray(r.levels) || r.levels.length === 0)
      issues.push({ pointer: `${at}/levels`, message: `must be a non-empty list of support levels, found ${show(r.levels)}` });
    else
      r.levels.forEach((l, i) => {
        if (!LEVELS.includes(l as Level))
          issues.push({ pointer: `${at}/levels/${i}`, message: `must be one of ${LEVELS.join(', ')}, found ${show(l)}` });
      });
  }
  if (r.evidence !== undefined) {
    if (!Array.isArray(r.evidence))
      issues.push({ pointer: `${at}/evidence`, message: `must be a list of {path, equals or matches, why}, found ${show(r.evidence)}` });
    else
      r.evidence.forEach((c, i) => {
        const cat = `${at}/evidence/${i}`;
        if (!isObject(c)) return issues.push({ pointer: cat, message: `must be {path, equals or matches, why}, found ${show(c)}` });
        unknownFields(c, COND_FIELDS, cat, issues);
        text(c.path, `${cat}/path`, issues, {
          pattern: EVIDENCE_PATH,
          what: 'a dot path such as "delivery" or "counters.nstat.UdpInCsumErrors"',
        });
        if ('equals' in c === 'matches' in c) {
          issues.push({ pointer: cat, message: 'must have exactly one of equals and matches' });
        } else if ('equals' in c && c.equals !== null && !['string', 'number', 'boolean'].includes(typeof c.equals)) {
          issues.push({ pointer: `${cat}/equals`, message: `must be a string, number, boolean or null, found ${show(c.equals)}` });
        } else if ('matches' in c && !isRegExp(c.matches)) {
          issues.push({ pointer: `${cat}/matches`, message: `must be a regular expression, found ${show(c.matches)}` });
        }
        text(c.why, `${cat}/why`, issues);
      });
  }
}

/** Schema issues of a profile as written; empty when it is valid. */
export function profileIssues(value: unknown): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  if (!isObject(value))
    return [{ pointer: '/', message: `must be a profile object, found ${Array.isArray(value) ? 'a list' : show(value)}` }];
  unknownFields(value, TOP_FIELDS, '', issues);
  if (value.schema !== PROFILE_SCHEMA)
    issues.push({ pointer: '/schema', message: `must be "${PROFILE_SCHEMA}", found ${show(value.schema)}` });
  text(value.name, '/name', issues, { pattern: NAME, what: 'lowercase letters, digits, "_" or "-"' });
  text(value.title, '/title', issues);
  if (value.description !== undefined && typeof value.description !== 'string')
    issues.push({ pointer: '/description', message: `must be a string, found ${show(value.description)}` });
  if (value.extends !== undefined && !SHIPPED_PROFILES.includes(value.extends as string)) {
    issues.push({
      pointer: '/extends',
      message: `must name a shipped profile (${SHIPPED_PROFILES.join(', ')}), found ${show(value.extends)}`,
    });
  }
  if (!Array.isArray(value.requirements) || (value.requirements.length === 0 && value.extends === undefined)) {
    issues.push({ pointer: '/requirements', message: `must be a non-empty list of requirements, found ${show(value.requirements)}` });
  } else {
    value.requirements.forEach((r, i) => requirementIssues(r, `/requirements/${i}`, issues));
  }
  return issues;
}

function refuse(file: string, issues: readonly ProfileIssue[]): never {
  throw new NicmatrixError('PROFILE_INVALID', issues.map((i) => `${file}: ${i.pointer}: ${i.message}`).join('\n'), {
    details: { file, issues },
  });
}

/** Validates a profile object and resolves its `extends` chain. `file` names the source in every error. */
export function resolveProfile(value: unknown, file: string, seen: string[] = []): Profile {
  const issues = profileIssues(value);
  if (issues.length > 0) refuse(file, issues);
  const src = value as ProfileSource;
  if (seen.includes(src.name))
    refuse(file, [{ pointer: '/extends', message: `profiles extend each other in a loop: ${[...seen, src.name].join(' → ')}` }]);
  const base =
    src.extends === undefined ? undefined : resolveProfile(SHIPPED[src.extends], `shipped profile ${src.extends}`, [...seen, src.name]);
  const requirements = [...(base?.requirements ?? []), ...src.requirements];
  const ids = new Set<string>();
  requirements.forEach((r, i) => {
    if (ids.has(r.id)) {
      const own = i - (base?.requirements.length ?? 0);
      const where = own >= 0 ? `/requirements/${own}/id` : '/extends';
      refuse(file, [
        { pointer: where, message: `requirement id "${r.id}" is used twice${base ? ` (with ${src.extends})` : ''}; ids must be unique` },
      ]);
    }
    ids.add(r.id);
  });
  return {
    name: src.name,
    title: src.title,
    description: src.description ?? '',
    source: file,
    chain: [...(base?.chain ?? []), src.name],
    requirements,
  };
}

/** Parses profile text (JSON). */
export function parseProfile(text: string, file: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NicmatrixError('PROFILE_INVALID', `${file}: not valid JSON: ${(e as Error).message}`, { cause: e, details: { file } });
  }
  return resolveProfile(value, file);
}

/** A shipped profile by name, or undefined. */
export function shippedProfile(name: string): Profile | undefined {
  return Object.hasOwn(SHIPPED, name) ? resolveProfile(SHIPPED[name], `shipped:${name}`) : undefined;
}

/** Whole-string matcher for a shell-style glob: `*` any run of characters, `?` one. */
export function globMatcher(globs: readonly string[]): (s: string) => boolean {
  const res = globs.map(
    (g) =>
      new RegExp(
        `^${g
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      ),
  );
  return (s) => res.some((re) => re.test(s));
}
