/**
 * A Markdown summary fit for a CI job summary or a pull-request comment:
 * the overall verdict, one line per target, the failures with their
 * messages, regressions, "claimed but failed" and what is not yet tested.
 * Lists are capped so the comment stays within what forges accept. Pure.
 */
import { LEVEL_TEXT, LEVELS, levelsOf, type Level } from '../matrix/levels.js';
import { STATUSES, type RunRecord, type Status } from '../matrix/record.js';
import { clip, mdEscape } from './text.js';
import type { ReportInput, Reporter } from './types.js';

/** Rows per list before "… and N more". */
export const MAX_ROWS = 50;
const MAX_MESSAGE = 300;

const code = (s: string): string => `\`${s.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``;

function capped<T>(items: readonly T[], render: (item: T) => string, what: string): string[] {
  const lines = items.slice(0, MAX_ROWS).map(render);
  if (items.length > MAX_ROWS) lines.push(`\n… and ${items.length - MAX_ROWS} more ${what} (see the full report or the website)`);
  return lines;
}

function totals(runs: readonly RunRecord[]): Record<Status, number> {
  const t: Record<Status, number> = { pass: 0, fail: 0, unsupported: 0, skip: 0, error: 0 };
  for (const run of runs) for (const target of run.targets) for (const r of target.results) t[r.status]++;
  return t;
}

function headline(t: Record<Status, number>): string {
  const n = STATUSES.reduce((s, k) => s + t[k], 0);
  const verdict = t.error > 0 ? 'ERROR' : t.fail > 0 ? 'FAIL' : 'PASS';
  return `## nicmatrix: ${verdict}: ${t.fail} failed, ${t.error} errors in ${n} verdicts`;
}

export const markdownReporter: Reporter = {
  format: 'markdown',
  extension: 'md',
  render(input: ReportInput): string {
    const { runs, matrix } = input;
    const out: string[] = [headline(totals(runs)), ''];
    out.push(`${runs.length} run(s) from ${code(input.source)}, generated ${input.generatedAt}.`, '');

    const targets = runs.flatMap((run) => run.targets.map((t) => ({ run, t }))).reverse();
    out.push(
      '| target | device | driver | kernel | ' + STATUSES.join(' | ') + ' |',
      '| --- | --- | --- | --- |' + ' ---: |'.repeat(STATUSES.length),
    );
    out.push(
      ...capped(
        targets,
        ({ t }) => {
          const c: Record<Status, number> = { pass: 0, fail: 0, unsupported: 0, skip: 0, error: 0 };
          for (const r of t.results) c[r.status]++;
          const driver = [t.driver.name, t.driver.version, t.driver.firmware && `fw ${t.driver.firmware}`].filter(Boolean).join(' ');
          return `| ${code(t.spec)} | ${mdEscape(t.device.description)} | ${mdEscape(driver)} | ${mdEscape(t.kernel)} | ${STATUSES.map((s) => ((s === 'fail' || s === 'error') && c[s] ? `**${c[s]}**` : String(c[s]))).join(' | ')} |`;
        },
        'targets',
      ),
    );

    // The same support levels as the website, one row per target: what the hardware really does.
    // The flaky column only where attempts were repeated and disagreed: most runs have none.
    const anyFlaky = targets.some(({ t }) => [...levelsOf(t).values()].some((j) => j.level === 'flaky'));
    const shownLevels = LEVELS.filter((l) => l !== 'flaky' || anyFlaky);
    out.push('', '### Support levels per check', '', '| target | ' + shownLevels.map((l) => LEVEL_TEXT[l]).join(' | ') + ' |');
    out.push('| --- |' + ' ---: |'.repeat(shownLevels.length));
    out.push(
      ...capped(
        targets,
        ({ t }) => {
          const n = new Map<Level, number>();
          for (const j of levelsOf(t).values()) n.set(j.level, (n.get(j.level) ?? 0) + 1);
          return `| ${code(t.spec)} | ${shownLevels.map((l) => (l === 'broken' && n.get(l) ? `**${n.get(l)}**` : String(n.get(l) ?? 0))).join(' | ')} |`;
        },
        'targets',
      ),
    );
    for (const level of ['broken', 'flaky'] as const) {
      const cells = targets.flatMap(({ t }) =>
        [...levelsOf(t)].filter(([, j]) => j.level === level).map(([check, j]) => ({ t, check, note: j.note })),
      );
      if (cells.length === 0) continue;
      out.push('', `#### ${level === 'broken' ? 'Broken' : 'Flaky'}`, '');
      out.push(
        ...capped(
          cells,
          ({ t, check, note }) => `- ${code(t.spec)} ${code(check)}: ${mdEscape(clip(note, MAX_MESSAGE))}`,
          `${level} cells`,
        ),
      );
    }

    const bad = targets.flatMap(({ t }) => t.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => ({ t, r })));
    if (bad.length > 0) {
      out.push('', '### Failures and errors', '', '| target | check | variant | verdict | message |', '| --- | --- | --- | --- | --- |');
      out.push(
        ...capped(
          bad,
          ({ t, r }) =>
            `| ${code(t.spec)} | ${code(r.check)} | ${mdEscape(r.variant)} | **${r.status}** | ${mdEscape(clip(r.message, MAX_MESSAGE))} |`,
          'failures',
        ),
      );
    }
    const cells = matrix.devices.flatMap((d) => Object.values(matrix.cells[d.key] ?? {}).map((c) => ({ d, c })));
    const regressed = cells.filter(({ c }) => c.regressed);
    if (regressed.length > 0) {
      out.push('', '### Regressions', '');
      out.push(
        ...capped(
          regressed,
          ({ d, c }) => {
            const last = c.regressions[c.regressions.length - 1];
            const still = last && last.to.kernel !== c.kernel ? `, still on ${mdEscape(c.kernel)}` : '';
            const what = last
              ? `passed on ${mdEscape(last.from.kernel)}, fails on ${mdEscape(last.to.kernel)}${still}`
              : `fails on ${mdEscape(c.kernel)}`;
            return `- **${mdEscape(d.driver)}** ${mdEscape(d.description)}: ${code(c.check)} ${what}`;
          },
          'regressions',
        ),
      );
    }
    const claimedFailed = cells.filter(({ c }) => c.claimedButFailed);
    if (claimedFailed.length > 0) {
      out.push('', '### Claimed but failed', '', 'The driver advertises the offload (`ethtool -k`) and the check failed:', '');
      out.push(
        ...capped(
          claimedFailed,
          ({ d, c }) => `- **${mdEscape(d.driver)}** ${mdEscape(d.description)}: ${code(c.check)} on ${mdEscape(c.kernel)}`,
          'cells',
        ),
      );
    }
    const untested = matrix.devices.filter((d) => d.untested);
    if (untested.length > 0) {
      out.push('', `<details><summary>Not yet tested (${untested.length})</summary>`, '');
      out.push(...untested.map((d) => `- **${mdEscape(d.driver)}**: ${mdEscape(d.description)}`), '', '</details>');
    }
    return out.join('\n') + '\n';
  },
};
