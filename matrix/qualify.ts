/**
 * Judging a run record against a qualification profile (pure): per
 * requirement met / not met / not applicable, each with why, and the level
 * met only when no requirement is unmet and at least one was verified.
 */
import { NicmatrixError } from './errors.js';
import { LEVEL_TEXT, levelsOf, type Level } from './levels.js';
import { globMatcher, type EvidenceCondition, type Profile, type Requirement } from './profile.js';
import type { Evidence, ResultRecord, RunRecord, Status, TargetRecord } from './record.js';

export type RequirementVerdict = 'met' | 'not-met' | 'not-applicable';

/** One result a requirement looked at, and whether it counts for or against it. */
export interface JudgedResult {
  check: string;
  variant: string;
  status: Status;
  message: string;
  /** `ok`: meets it; `neutral`: a skip, neither; `against`: it is why the requirement is not met. */
  effect: 'ok' | 'neutral' | 'against';
  /** Why it counts against (verdict not accepted, evidence condition not met, harness error). */
  reason?: string;
}

/** A check's support level on the judged target: the same rule, and so the same word, as the matrix cell. */
export interface CheckLevel {
  check: string;
  level: Level;
  note: string;
}

export interface RequirementJudgement {
  id: string;
  title: string;
  verdict: RequirementVerdict;
  /** One line saying why, naming the checks and variants that decided it. */
  why: string;
  /** Check ids (known to this version or in the record) the requirement covers. */
  checks: string[];
  results: JudgedResult[];
  /** Support level of every covered check that has results. */
  levels: CheckLevel[];
  /** Checks the requirement needs that have no verdict of a wanted variant in the record. */
  missing: { check: string; reason: string }[];
  harnessErrors: number;
}

export interface LevelJudgement {
  profile: string;
  met: boolean;
  counts: Record<RequirementVerdict, number>;
  harnessErrors: number;
  why: string;
}

export interface Qualification {
  level: LevelJudgement;
  requirements: RequirementJudgement[];
  /** Support level of every check in the record for this target, as the matrix shows it. */
  levels: CheckLevel[];
}

/** Support levels of a target's checks, from all their variants (as the matrix aggregates them). */
export function targetLevels(target: TargetRecord): CheckLevel[] {
  return [...levelsOf(target)].map(([check, j]) => ({ check, level: j.level, note: j.note }));
}

/** How many failing items a `why` line lists before "and N more". */
const MAX_IN_WHY = 3;

/** The value at a dot path of the evidence, or undefined. */
export function evidenceAt(evidence: Evidence, path: string): unknown {
  let cur: unknown = evidence;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function conditionReason(r: ResultRecord, c: EvidenceCondition): string | undefined {
  const actual = evidenceAt(r.evidence, c.path);
  const expected = c.matches !== undefined ? `to match /${c.matches}/` : JSON.stringify(c.equals);
  if (actual === undefined) return `evidence has no ${c.path} (expected ${expected}: ${c.why})`;
  const holds =
    c.matches !== undefined
      ? ['string', 'number', 'boolean'].includes(typeof actual) && new RegExp(c.matches).test(String(actual))
      : actual === c.equals;
  if (!holds) return `evidence ${c.path} is ${JSON.stringify(actual)}, expected ${expected}: ${c.why}`;
  return undefined;
}

function judgeResult(req: Requirement, r: ResultRecord): JudgedResult {
  const base = { check: r.check, variant: r.variant, status: r.status, message: r.message };
  const accept = req.accept ?? ['pass'];
  if (r.status === 'error') return { ...base, effect: 'against', reason: `harness error, no verdict: ${r.message}` };
  if (r.status === 'skip' && !accept.includes('skip')) return { ...base, effect: 'neutral' };
  if (!accept.includes(r.status)) return { ...base, effect: 'against', reason: `${r.status} (needs ${accept.join(' or ')}): ${r.message}` };
  for (const c of req.evidence ?? []) {
    const reason = conditionReason(r, c);
    if (reason) return { ...base, effect: 'against', reason };
  }
  return { ...base, effect: 'ok' };
}

function listed(items: string[]): string {
  return items.length <= MAX_IN_WHY ? items.join('; ') : `${items.slice(0, MAX_IN_WHY).join('; ')}; and ${items.length - MAX_IN_WHY} more`;
}

function tally(results: JudgedResult[]): string {
  const by = new Map<Status, number>();
  for (const r of results) by.set(r.status, (by.get(r.status) ?? 0) + 1);
  return [...by].map(([s, n]) => `${n} ${s}`).join(', ');
}

/** Judges one requirement on one target; `available` are the check ids this version knows. */
export function judgeRequirement(req: Requirement, target: TargetRecord, available: readonly string[]): RequirementJudgement {
  const matchCheck = globMatcher(req.checks);
  const matchVariant = req.variants ? globMatcher(req.variants) : () => true;
  const recorded = [...new Set(target.results.map((r) => r.check))];
  const checks = [...new Set([...available, ...recorded])].filter(matchCheck);
  const head = { id: req.id, title: req.title, checks };
  if (checks.length === 0) {
    return {
      ...head,
      verdict: 'not-applicable',
      why: `check not available in this version: no check matches ${req.checks.join(', ')}`,
      results: [],
      levels: [],
      missing: [],
      harnessErrors: 0,
    };
  }
  // A target that never came up records one `all` error per check: it stands for every variant.
  const relevant = target.results.filter((r) => matchCheck(r.check) && (r.variant === 'all' || matchVariant(r.variant)));
  const results = relevant.map((r) => judgeResult(req, r));
  const missing = checks
    .filter((c) => !relevant.some((r) => r.check === c))
    .map((check) => {
      const ran = target.results.filter((r) => r.check === check).map((r) => r.variant);
      const reason =
        ran.length === 0
          ? 'no verdict in the run record (the run did not include this check)'
          : `no verdict of a variant matching ${req.variants?.join(', ')} (variants run: ${ran.join(', ')})`;
      return { check, reason };
    });
  const harnessErrors = results.filter((r) => r.status === 'error').length;
  const levels = targetLevels({ ...target, results: target.results.filter((r) => checks.includes(r.check)) });
  const wrongLevel = req.levels
    ? levels
        .filter((l) => !req.levels!.includes(l.level) && l.level !== 'not-tested')
        .map((l) => `${l.check}: level ${LEVEL_TEXT[l.level]} (needs ${req.levels!.map((x) => LEVEL_TEXT[x]).join(' or ')}): ${l.note}`)
    : [];
  const against = [
    ...results.filter((r) => r.effect === 'against').map((r) => `${r.check} [${r.variant}]: ${r.reason}`),
    ...missing.map((m) => `${m.check}: ${m.reason}`),
    // A level is only news when no result or missing variant of that check already explains it.
    ...wrongLevel.filter(
      (w) =>
        !results.some((r) => r.effect === 'against' && w.startsWith(`${r.check}:`)) && !missing.some((m) => w.startsWith(`${m.check}:`)),
    ),
  ];
  const rest = { results, levels, missing, harnessErrors };
  if (against.length > 0) return { ...head, verdict: 'not-met', why: listed(against), ...rest };
  if (results.every((r) => r.effect === 'neutral')) {
    const why = [...new Set(results.map((r) => `${r.check} [${r.variant}]: ${r.message}`))];
    return { ...head, verdict: 'not-applicable', why: `skipped on this device: ${listed(why)}`, ...rest };
  }
  return {
    ...head,
    verdict: 'met',
    why: `${tally(results.filter((r) => r.effect === 'ok'))} across ${checks.length} check(s)`,
    ...rest,
  };
}

/** Judges a whole profile on one target. */
export function judgeTarget(profile: Profile, target: TargetRecord, available: readonly string[]): Qualification {
  const requirements = profile.requirements.map((r) => judgeRequirement(r, target, available));
  const counts: Record<RequirementVerdict, number> = { met: 0, 'not-met': 0, 'not-applicable': 0 };
  for (const r of requirements) counts[r.verdict]++;
  const harnessErrors = requirements.reduce((n, r) => n + r.harnessErrors, 0);
  const met = counts['not-met'] === 0 && counts.met > 0;
  const na = counts['not-applicable'] > 0 ? `; ${counts['not-applicable']} not applicable` : '';
  let why: string;
  if (met) why = `all ${counts.met} applicable requirement(s) met${na}`;
  else if (counts['not-met'] > 0)
    why = `${counts['not-met']} of ${requirements.length} requirement(s) not met: ${requirements
      .filter((r) => r.verdict === 'not-met')
      .map((r) => r.id)
      .join(', ')}`;
  else why = 'nothing could be verified: every requirement is not applicable';
  return { level: { profile: profile.name, met, counts, harnessErrors, why }, requirements, levels: targetLevels(target) };
}

/** The check ids a profile needs from `available`, each with the variant globs wanted (undefined: all variants). */
export function checksNeeded(profile: Profile, available: readonly string[]): Map<string, string[] | undefined> {
  const need = new Map<string, string[] | undefined>();
  for (const id of available) {
    for (const req of profile.requirements) {
      if (!globMatcher(req.checks)(id)) continue;
      const prev = need.get(id);
      const all = (need.has(id) && prev === undefined) || req.variants === undefined;
      need.set(id, all ? undefined : [...new Set([...(prev ?? []), ...req.variants!])]);
    }
  }
  return need;
}

/** The target of a record to judge: the one named by `spec`, or the only one. */
export function selectTarget(record: RunRecord, file: string, spec?: string): TargetRecord {
  const specs = record.targets.map((t) => t.spec);
  if (spec !== undefined) {
    const t = record.targets.find((x) => x.spec === spec);
    if (!t) throw new NicmatrixError('USAGE', `${file}: no target "${spec}" in the run record (targets: ${specs.join(', ') || 'none'})`);
    return t;
  }
  if (record.targets.length !== 1) {
    throw new NicmatrixError(
      'USAGE',
      `${file}: the run record has ${record.targets.length} targets${specs.length ? ` (${specs.join(', ')})` : ''}; choose one with --target SPEC`,
    );
  }
  return record.targets[0]!;
}
