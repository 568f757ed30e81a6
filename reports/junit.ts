/**
 * JUnit XML for CI: one testsuite per run × target, one testcase per
 * target × check × variant. classname is `spec/device`, name `check [variant]`;
 * fail → <failure>, error → <error>, skip → <skipped>. `unsupported` is no
 * skip: the software fallback ran and was verified, so it passes and says so
 * in <system-out>. Every testcase carries its verdict and the cell's support
 * level (`levels.ts`) as properties. Pure.
 */
import { flakyOf, LEVEL_MEANING, LEVEL_TEXT, levelsOf, type LevelJudgement } from '../matrix/levels.js';
import type { ResultRecord, RunRecord, TargetRecord } from '../matrix/record.js';
import { clip, xmlAttr, xmlEscape } from './text.js';
import type { ReportInput, Reporter } from './types.js';

/** Longest message or details text put in one testcase; CI viewers choke on more. */
const MAX_TEXT = 8000;

const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** How the device is named in classnames: QEMU model, PCI id, or driver. */
export function deviceName(t: TargetRecord): string {
  return t.device.model ?? t.device.pciId ?? t.driver.name;
}

function details(r: ResultRecord): string {
  const lines = [r.message];
  for (const f of r.evidence.frames ?? []) lines.push(`frame: ${f.reason}: ${f.hex.slice(0, 256)}`);
  if (typeof r.evidence.pcap === 'string') lines.push(`pcap: ${r.evidence.pcap}`);
  if (r.evidence.seed !== undefined) lines.push(`seed: ${r.evidence.seed}`);
  return clip(lines.join('\n'), MAX_TEXT);
}

/** Surefire's rerun convention, which CI readers of JUnit show: one <flakyFailure> per attempt that did not pass. */
function flakyFailures(r: ResultRecord): string {
  const attempts = Array.isArray(r.evidence.attempts) ? (r.evidence.attempts as { status?: unknown; message?: unknown }[]) : [];
  return attempts
    .map((a, i) => ({ i, status: String(a.status), message: String(a.message ?? '') }))
    .filter((a) => a.status !== 'pass')
    .map(
      (a) =>
        `\n      <flakyFailure${attrs({ message: clip(`attempt ${a.i + 1}: ${a.status}: ${a.message}`, MAX_TEXT), type: a.status })}/>`,
    )
    .join('');
}

function testcase(t: TargetRecord, r: ResultRecord, level: LevelJudgement | undefined): string {
  const flaky = flakyOf(r.evidence);
  const head = `    <testcase${attrs({ classname: `${t.spec}/${deviceName(t)}`, name: `${r.check} [${r.variant}]`, time: seconds(r.durationMs) })}>`;
  const props = [
    '      <properties>',
    `        <property${attrs({ name: 'verdict', value: r.status })}/>`,
    ...(flaky ? [`        <property${attrs({ name: 'flaky', value: `${flaky.passes} of ${flaky.attempts} attempts passed` })}/>`] : []),
    ...(level
      ? [
          `        <property${attrs({ name: 'level', value: LEVEL_TEXT[level.level] })}/>`,
          `        <property${attrs({ name: 'level.note', value: level.note })}/>`,
        ]
      : []),
    '      </properties>',
  ].join('\n');
  const message = clip(r.message, MAX_TEXT);
  let body = '';
  switch (r.status) {
    case 'pass':
      break;
    case 'fail':
      body = `\n      <failure${attrs({ message, type: flaky ? 'flaky' : 'fail' })}>${xmlEscape(details(r))}</failure>`;
      break;
    case 'error':
      body = `\n      <error${attrs({ message, type: 'error' })}>${xmlEscape(details(r))}</error>`;
      break;
    case 'unsupported':
      // Not a skip: the device does not offer the feature, and the software path it falls back to was verified.
      body = `\n      <system-out>${xmlEscape(
        `unsupported: the device does not offer this offload; the software fallback was verified (cell level: ${level ? `${LEVEL_TEXT[level.level]}, ${LEVEL_MEANING[level.level]}` : 'unknown'}): ${message}`,
      )}</system-out>`;
      break;
    default:
      body = `\n      <skipped${attrs({ message: `${r.status}${message ? `: ${message}` : ''}` })}/>`;
  }
  return `${head}\n${props}${body}${flaky ? flakyFailures(r) : ''}\n    </testcase>`;
}

function counts(results: readonly ResultRecord[]): { tests: number; failures: number; errors: number; skipped: number; time: string } {
  const n = (pred: (r: ResultRecord) => boolean): number => results.filter(pred).length;
  return {
    tests: results.length,
    failures: n((r) => r.status === 'fail'),
    errors: n((r) => r.status === 'error'),
    skipped: n((r) => r.status === 'skip'),
    time: seconds(results.reduce((s, r) => s + r.durationMs, 0)),
  };
}

function testsuite(run: RunRecord, t: TargetRecord): string {
  const props: Record<string, string> = {
    run: run.id,
    kernel: t.kernel,
    driver: t.driver.name,
    'driver.version': t.driver.version,
    firmware: t.driver.firmware,
    device: t.device.description,
    ...Object.fromEntries(Object.entries(t.dimensions).map(([k, v]) => [`dimension.${k}`, v])),
  };
  if (t.setupError) props.setupError = `${t.setupError.code}: ${t.setupError.message}`;
  const levels = levelsOf(t);
  return [
    `  <testsuite${attrs({ name: `${t.spec} (${deviceName(t)}, ${t.kernel})`, ...counts(t.results), timestamp: run.startedAt.replace(/Z$/, ''), hostname: run.host.hostname })}>`,
    '    <properties>',
    ...Object.entries(props).map(([name, value]) => `      <property${attrs({ name, value })}/>`),
    '    </properties>',
    ...t.results.map((r) => testcase(t, r, levels.get(r.check))),
    '  </testsuite>',
  ].join('\n');
}

export const junitReporter: Reporter = {
  format: 'junit',
  extension: 'xml',
  render(input: ReportInput): string {
    const all = input.runs.flatMap((run) => run.targets.flatMap((t) => t.results));
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites${attrs({ name: 'nicmatrix', ...counts(all) })}>`,
      ...input.runs.flatMap((run) => run.targets.map((t) => testsuite(run, t))),
      '</testsuites>',
      '',
    ].join('\n');
  },
};
