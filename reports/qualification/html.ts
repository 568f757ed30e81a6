/**
 * The qualification report as one self-contained HTML page (inline style, no
 * script, no external file): headline verdict, device identity, every
 * requirement with why and the verdicts behind it, provenance with the run
 * record's path and SHA-256 (the record is referenced, not embedded), and every
 * check's support level in the matrix's words. Every value goes through `esc`. Pure.
 */
import { LEVEL_MEANING, LEVEL_TEXT } from '../../matrix/levels.js';
import type { CheckLevel, JudgedResult, RequirementJudgement } from '../../matrix/qualify.js';
import { htmlEscape as esc } from '../text.js';
import type { QualificationReport } from './report.js';

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff}
main{max-width:1100px;margin:0 auto;padding:1.5rem}
h1{font-size:1.45rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.verdict{display:inline-block;padding:.15rem .6rem;border-radius:.3rem;font-weight:700;color:#fff}
.met{background:#1a7f37}.not-met{background:#cf222e}.not-applicable{background:#6e7781}
.level{font-size:1.25rem;padding:1rem;border-radius:.4rem;border:2px solid #d0d7de}
.level.met{background:#dafbe1;border-color:#1a7f37;color:#1b1f24}.level.not-met{background:#ffebe9;border-color:#cf222e;color:#1b1f24}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.mono,code,pre{font-family:ui-monospace,monospace;font-size:.88em}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:30rem;white-space:pre-wrap;word-break:break-all}
.lv{display:inline-block;padding:0 .4rem;border-radius:.2rem;border:1px solid #8c959f}.lv-offloaded{background:#d1fae5;color:#064e3b}.lv-partial{background:#fef3c7;color:#713f12}.lv-software{background:#e0e7ff;color:#312e81}.lv-broken{background:#fecaca;color:#7f1d1d;font-weight:700}.lv-inconclusive,.lv-flaky,.lv-not-tested{background:#f3f4f6;color:#1f2937}
.against{background:#ffebe9}.neutral{color:#57606a}.why{margin:.2rem 0 .5rem}details{margin:.3rem 0}
`;

const VERDICT_TEXT = { met: 'MET', 'not-met': 'NOT MET', 'not-applicable': 'NOT APPLICABLE' } as const;

function row(cells: string[], cls = ''): string {
  return `<tr${cls ? ` class="${cls}"` : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

function definitionList(pairs: [string, string | undefined][]): string {
  const rows = pairs
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v!)}</td></tr>`);
  return `<table>${rows.join('')}</table>`;
}

function resultRow(r: JudgedResult): string {
  const note = r.reason ?? (r.effect === 'neutral' ? 'skipped: does not count' : 'meets it');
  return row([`<code>${esc(r.check)}</code>`, esc(r.variant), esc(r.status), esc(r.message), esc(note)], r.effect);
}

function levelBadge(l: CheckLevel): string {
  return `<span class="lv lv-${l.level}" title="${esc(LEVEL_MEANING[l.level])}">${esc(LEVEL_TEXT[l.level])}</span>`;
}

function levelRows(levels: readonly CheckLevel[]): string {
  return `<table><thead><tr><th>check</th><th>support level</th><th>why</th></tr></thead><tbody>${levels
    .map((l) => row([`<code>${esc(l.check)}</code>`, levelBadge(l), esc(l.note)]))
    .join('')}</tbody></table>`;
}

function requirement(j: RequirementJudgement): string {
  const results =
    j.results.length === 0
      ? ''
      : `<table><thead><tr><th>check</th><th>variant</th><th>verdict</th><th>message</th><th>counts as</th></tr></thead><tbody>${j.results.map(resultRow).join('')}</tbody></table>`;
  const missing =
    j.missing.length === 0 ? '' : `<ul>${j.missing.map((m) => `<li><code>${esc(m.check)}</code>: ${esc(m.reason)}</li>`).join('')}</ul>`;
  return `<section id="req-${esc(j.id)}"><h3><span class="verdict ${j.verdict}">${VERDICT_TEXT[j.verdict]}</span> ${esc(j.title)} <code>${esc(j.id)}</code></h3>
<p class="why">${esc(j.why)}</p>${j.levels.length ? `<p>Support levels: ${j.levels.map((l) => `<code>${esc(l.check)}</code> ${levelBadge(l)}`).join(' · ')}</p>` : ''}${results || missing ? `<details${j.verdict === 'not-met' ? ' open' : ''}><summary>${j.results.length} verdict(s)${j.missing.length ? `, ${j.missing.length} missing` : ''}</summary>${results}${missing}</details>` : ''}</section>`;
}

export function renderQualificationHtml(r: QualificationReport): string {
  const d = r.device;
  const levelClass = r.level.met ? 'met' : 'not-met';
  const summary = r.requirements
    .map((j) =>
      row([
        `<a href="#req-${esc(j.id)}"><code>${esc(j.id)}</code></a>`,
        esc(j.title),
        `<span class="verdict ${j.verdict}">${VERDICT_TEXT[j.verdict]}</span>`,
        esc(j.why),
      ]),
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${r.profile.name} ${r.level.met ? 'met' : 'not met'}: ${d.description}`)} · nicmatrix qualification</title>
<style>${STYLE}</style></head>
<body><main>
<p>nicmatrix qualification report · profile <code>${esc(r.profile.name)}</code></p>
<h1>${esc(d.description)} <code>${esc(d.spec)}</code></h1>
<div class="level ${levelClass}" role="status"><span class="verdict ${levelClass}">${r.level.met ? 'QUALIFIED' : 'NOT QUALIFIED'}</span>
${esc(r.profile.title)}<p class="why">${esc(r.level.why)}${r.level.harnessErrors ? esc(` (${r.level.harnessErrors} harness error(s): the verdicts of those checks are unknown)`) : ''}</p></div>
<p class="headline">${esc(r.headline)}</p>
<h2>Device</h2>
${definitionList([
  ['description', d.description],
  ['target', d.spec],
  ['kind', d.kind],
  ['model', d.model],
  ['PCI ids', d.pciId],
  ['driver', d.driver],
  ['driver version', d.driverVersion],
  ['firmware', d.firmware],
  ['bus', d.bus],
  ['kernel', d.kernel],
  ...Object.entries(d.dimensions).map(([k, v]): [string, string] => [k, v]),
  ['host', `${d.host.hostname} (${d.host.os}, ${d.host.arch}, kernel ${d.host.kernel})`],
])}
<h2>Requirements</h2>
<table><thead><tr><th>id</th><th>requirement</th><th>verdict</th><th>why</th></tr></thead><tbody>${summary}</tbody></table>
${r.requirements.map(requirement).join('\n')}
<h2>Support level per check</h2>
<p>The same levels the compatibility matrix shows for this device, from the same rule.</p>
${levelRows(r.levels)}
<h2>Provenance</h2>
${definitionList([
  ['profile', `${r.profile.name} (${r.profile.source}; includes ${r.profile.chain.join(' → ')})`],
  ['run id', r.run.id],
  ['run record', r.run.file],
  ['run record SHA-256', r.run.sha256],
  ['target judged', `${r.run.target} (of ${r.run.targets} in the record)`],
  ['run started', r.run.startedAt],
  ['run finished', r.run.finishedAt],
  ['seed', String(r.run.seed)],
  ['command', r.run.argv.join(' ')],
  ['measured with', `nicmatrix ${r.run.toolVersion}`],
  ['judged with', `nicmatrix ${r.tool.version}`],
  ['report generated', r.generatedAt],
])}
<p>Re-judge from the record alone: <code>nicmatrix qualify --profile ${esc(r.profile.source.startsWith('shipped:') ? r.profile.name : r.profile.source)} --from-run ${esc(r.run.file)}</code></p>
</main></body></html>
`;
}
