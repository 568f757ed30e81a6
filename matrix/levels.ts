/**
 * The support level of a matrix cell: the reader's answer to "does this
 * device do it in hardware, and correctly?", derived from the variants'
 * verdicts and their evidence (feature snapshot, checksum delivery, RX
 * validation counts). One rule shared by the site, the reports, the KCIDB
 * export and the qualification profiles. Pure.
 */
import { claimFeatures } from './claims.js';
import type { Evidence, FeatureSnapshot, Status, TargetKind, TargetRecord } from './record.js';
import { combineStatuses } from './verdict.js';

/**
 * `flaky`: the attempts of one variant disagreed (the runner's `--repeat` or
 * `--retry-failed`, `evidence.flaky`); it outranks `broken`, the failed
 * attempts still named in the note.
 */
export type Level = 'offloaded' | 'partial' | 'software' | 'broken' | 'inconclusive' | 'flaky' | 'not-tested';

/** Display order: best support first, then faults, then the absence of an answer. */
export const LEVELS: readonly Level[] = ['offloaded', 'partial', 'software', 'broken', 'flaky', 'inconclusive', 'not-tested'];

/** The word a reader sees. */
export const LEVEL_TEXT: Record<Level, string> = {
  offloaded: 'offloaded',
  partial: 'partial',
  software: 'software',
  broken: 'broken',
  flaky: 'flaky',
  inconclusive: 'inconclusive',
  'not-tested': 'not tested',
};

/** What each level means, for legends, JUnit and the reports. */
export const LEVEL_MEANING: Record<Level, string> = {
  offloaded: 'the hardware path was selected and judged correct',
  partial: 'offloaded for some cases and not others, or left to the receiver by a virtual device',
  software: 'the device offers no offload for it (or the check concerns none); the software path was verified',
  broken: 'a variant failed: the device or driver got it wrong',
  flaky: 'repeated runs disagree',
  inconclusive: 'the harness could not judge (a harness error or frames lost in the set-up), not a device failure',
  'not-tested': 'no verdict: never run, or not applicable to this device',
};

/** One variant's verdict and evidence, as the level rule needs it. */
export interface LevelVariant {
  variant: string;
  status: Status;
  message: string;
  evidence: Evidence;
}

export interface LevelInput {
  check: string;
  /** Kind of link: on `lo` and `veth` no hardware exists, whatever the feature flags say. */
  kind?: TargetKind;
  /** Target-level feature snapshot, used for variants whose evidence lacks one. */
  features?: FeatureSnapshot;
  variants: readonly LevelVariant[];
}

export interface LevelJudgement {
  level: Level;
  /** One line: which variant decided it, and the finding. */
  note: string;
  /** The verdict of the variants combined (`verdict.ts`), kept under the level. */
  status: Status;
}

/** What ran in one variant, as far as the evidence tells. */
type Path =
  /** The offload was on and the device's result was complete and correct. */
  | 'device'
  /** The offload was on, some cases done by the device and others not. */
  | 'some'
  /** The offload was on and the frames were left for the receiver to finish (virtual device). */
  | 'left-partial'
  /** The software path ran (offload off or not offered, or nothing to offload) and was correct. */
  | 'stack';

const VIRTUAL: ReadonlySet<TargetKind> = new Set(['lo', 'veth']);
const MAX_NOTE = 200;

/** Offload features a check concerns; empty when its subject is the kernel's own work. */
export function offloadFeatures(check: string): string[] {
  // A UDP datagram sent without a checksum leaves nothing for the device to compute.
  if (check === 'tx-csum/udp-nocsum') return [];
  return claimFeatures(check);
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  const line = (nl < 0 ? s : s.slice(0, nl)).trim();
  return line.length > MAX_NOTE ? `${line.slice(0, MAX_NOTE - 1)}…` : line;
}

function deliveries(e: Evidence): string[] {
  const out: string[] = [];
  if (typeof e.delivery === 'string') out.push(e.delivery);
  if (Array.isArray(e.parts))
    for (const p of e.parts) if (p && typeof (p as Evidence).delivery === 'string') out.push((p as Evidence).delivery as string);
  return out;
}

/** `"37 of 100"` → [37, 100]. */
function validated(e: Evidence): [number, number] | undefined {
  const m = typeof e.hardwareValidated === 'string' ? /^(\d+) of (\d+)/.exec(e.hardwareValidated) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function selected(names: readonly string[], v: LevelVariant, fallback: FeatureSnapshot | undefined): string | undefined {
  if (v.evidence.features) return names.find((n) => v.evidence.features![n]?.active === true);
  // Without the variant's own snapshot (older records), its name says which path it asked for,
  // and `unsupported` says the device could not take it.
  if (v.variant.endsWith('-off') || v.status === 'unsupported') return undefined;
  if (v.variant.endsWith('-on')) return `${v.variant} (no feature snapshot)`;
  return names.find((n) => fallback?.[n]?.active === true);
}

function pathOf(input: LevelInput, v: LevelVariant): { path: Path; why: string } {
  const names = offloadFeatures(input.check);
  if (names.length === 0) return { path: 'stack', why: 'the check concerns no device offload: the kernel does this work' };
  const on = selected(names, v, input.features);
  if (!on) {
    const unmet = Array.isArray(v.evidence.unmetFeatures) ? (v.evidence.unmetFeatures as string[]).join('; ') : '';
    return { path: 'stack', why: unmet || `${names.join(' / ')} off: the software path ran` };
  }
  const virtual = input.kind !== undefined && VIRTUAL.has(input.kind);
  const d = deliveries(v.evidence);
  if (d.length > 0) {
    if (d.every((x) => x === 'complete'))
      return virtual
        ? { path: 'stack', why: `${on} on, but a virtual device has no hardware: the kernel completed every checksum` }
        : { path: 'device', why: `${on} on; frames left the device with complete, correct checksums` };
    if (d.every((x) => x === 'partial'))
      return { path: 'left-partial', why: `${on} on; frames left CHECKSUM_PARTIAL for the receiver to finish (seed correct)` };
    return { path: 'some', why: `${on} on; some frames complete, others left CHECKSUM_PARTIAL` };
  }
  const hv = validated(v.evidence);
  if (hv) {
    const [n, of] = hv;
    if (of === 0) return { path: 'stack', why: 'no checksum for the device to validate in this check' };
    if (n === 0) return { path: 'stack', why: `${on} on, but the device marked 0 of ${of} good frames valid: the stack verified them` };
    if (virtual) return { path: 'stack', why: `${on} on; a virtual device has no hardware to validate checksums` };
    if (n < of) return { path: 'some', why: `${on} on; the device marked ${n} of ${of} good frames valid` };
    return { path: 'device', why: `${on} on; the device marked all ${of} good frames valid and no bad one` };
  }
  if (virtual) return { path: 'stack', why: `${on} on, but a virtual device has no hardware: the kernel did the work` };
  return { path: 'device', why: `${on} on and judged correct` };
}

/** The pass count of a variant whose attempts disagreed (the runner's `combineAttempts`), from its evidence. */
export function flakyOf(e: Evidence): { passes: number; attempts: number } | undefined {
  const f = e.flaky as { passes?: unknown; attempts?: unknown } | undefined;
  return f && typeof f.passes === 'number' && typeof f.attempts === 'number' ? { passes: f.passes, attempts: f.attempts } : undefined;
}

/** The runner prefixes a flaky variant's message with its count; the note says it once. */
function stripFlaky(message: string): string {
  return message.replace(/^flaky: \d+ of \d+ attempts passed; /, '');
}

/** The level of one observation of a cell (its variants on one run). */
export function cellLevel(input: LevelInput): LevelJudgement {
  const status = combineStatuses(input.variants.map((v) => v.status));
  const said = (v: LevelVariant, text: string): string => firstLine(`${v.variant}: ${text}`);
  const first = input.variants[0];
  if (!first) return { level: 'not-tested', note: 'no verdict recorded', status };
  const flaky = input.variants.find((v) => flakyOf(v.evidence));
  if (flaky) {
    const f = flakyOf(flaky.evidence)!;
    return { level: 'flaky', note: said(flaky, `${f.passes} of ${f.attempts} attempts passed; ${stripFlaky(flaky.message)}`), status };
  }
  const failed = input.variants.find((v) => v.status === 'fail');
  if (failed) return { level: 'broken', note: said(failed, failed.message || 'failed'), status };
  const errored = input.variants.find((v) => v.status === 'error');
  if (errored) return { level: 'inconclusive', note: said(errored, `harness error, no verdict: ${errored.message}`), status };
  const judged = input.variants.filter((v) => v.status !== 'skip');
  if (judged.length === 0) {
    return { level: 'not-tested', note: said(first, `not applicable: ${first.message || 'skipped'}`), status };
  }
  const paths = judged.map((v) => ({ v, ...pathOf(input, v) }));
  const hw = paths.filter((p) => p.path !== 'stack');
  if (hw.length === 0) {
    const p = paths.find((x) => x.v.status === 'unsupported') ?? paths[0]!;
    return { level: 'software', note: said(p.v, `${p.why}; software path verified`), status };
  }
  if (hw.every((p) => p.path === 'device')) return { level: 'offloaded', note: said(hw[0]!.v, hw[0]!.why), status };
  const p = hw.find((x) => x.path !== 'device')!;
  const device = hw.filter((x) => x.path === 'device').map((x) => x.v.variant);
  const also = device.length > 0 ? ` (offloaded in ${device.join(', ')})` : '';
  return { level: 'partial', note: said(p.v, `${p.why}${also}`), status };
}

/** The level of every check of one target, from all its variants, in the order the checks first appear. */
export function levelsOf(t: Pick<TargetRecord, 'kind' | 'features' | 'results'>): Map<string, LevelJudgement> {
  const by = new Map<string, LevelVariant[]>();
  for (const r of t.results) {
    const list = by.get(r.check);
    if (list) list.push(r);
    else by.set(r.check, [r]);
  }
  return new Map([...by].map(([check, variants]) => [check, cellLevel({ check, kind: t.kind, features: t.features, variants })]));
}
