/**
 * The page of one device × check: one sentence stating the finding (or the
 * level and why), the level and verdict on every kernel, a command that
 * reproduces it, the whole history and the evidence of the runs that
 * matter (the headline and the failures), frames decoded. Pure.
 */
import type { Cell, DeviceRow } from '../../matrix/aggregate.js';
import { claimFeatures } from '../../matrix/claims.js';
import type { DefinitionIndex } from '../../matrix/definitions.js';
import { findingOf } from '../../matrix/findings.js';
import type { Observation } from '../../matrix/history.js';
import { LEVEL_TEXT } from '../../matrix/levels.js';
import type { RunRecord } from '../../matrix/record.js';
import { evidenceHtml } from './evidence.js';
import { badge, cellBadge, esc, page, paths, verdictBadge } from './html.js';

/** Observations whose full evidence a cell page shows; the rest are summarised. */
const MAX_EVIDENCE = 8;
const ROOT = '../../';

/** Run id → record-relative artifact path → sha256 of the stored file. */
export type ArtifactIndex = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface CellContext {
  artifacts: ArtifactIndex;
  runs: ReadonlyMap<string, RunRecord>;
  defs: DefinitionIndex;
}

function claimText(c: Cell): string {
  const names = claimFeatures(c.check)
    .map((n) => `<code>${esc(n)}</code>`)
    .join(' / ');
  if (c.claimed === null)
    return names
      ? `No claim could be read (${names} absent from the feature snapshot).`
      : 'This check tests no driver offload: nothing is claimed.';
  return c.claimed ? `The driver claims this offload (${names} on).` : `The driver does not claim this offload (${names} off).`;
}

function evidenceFor(c: Cell): Observation[] {
  const newestFirst = c.history.slice().reverse();
  const head = newestFirst.find((o) => o.kernel === c.kernel);
  const picked = [head, ...newestFirst.filter((o) => o !== head && (o.status === 'fail' || o.status === 'error'))].filter(
    (o): o is Observation => o !== undefined,
  );
  return picked.slice(0, MAX_EVIDENCE);
}

/** The sentence the page leads with. */
export function leadSentence(c: Cell): string {
  const head = c.history
    .slice()
    .reverse()
    .find((o) => o.kernel === c.kernel);
  const failed = head?.variants.find((v) => v.status === 'fail');
  if (c.level === 'broken' && failed) return findingOf(c.check, failed);
  return `${LEVEL_TEXT[c.level][0].toUpperCase()}${LEVEL_TEXT[c.level].slice(1)} on kernel ${c.kernel}: ${c.note}`;
}

/** The shell command that runs this check again on this target, with the run's seed. */
export function reproduceCommand(spec: string, check: string, seed: number | undefined): string {
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [
    'nicmatrix',
    'run',
    '--target',
    quote(spec),
    '--checks',
    quote(check),
    ...(seed !== undefined ? ['--seed', String(seed)] : []),
  ].join(' ');
}

export function cellPage(d: DeviceRow, c: Cell, ctx: CellContext, generatedAt: string): string {
  const runLink = (id: string): string =>
    ctx.runs.has(id) ? `<a href="${ROOT}${esc(paths.run(id))}"><code>${esc(id)}</code></a>` : `<code>${esc(id)}</code>`;
  const regressions = c.regressions
    .map(
      (r) =>
        `<li>passed on ${esc(r.from.kernel)} (run ${runLink(r.from.runId)}), failed on ${esc(r.to.kernel)} (run ${runLink(r.to.runId)})${r.across === 'run' ? ', a later run on the same kernel' : ''}</li>`,
    )
    .join('');
  const perKernel = c.perKernel
    .slice()
    .reverse()
    .map(
      (k) =>
        `<tr><th scope="row">${esc(k.kernel)}</th><td>${badge(k.level, { regressed: k.regression, claimedButFailed: k.claimed === true && k.status === 'fail' })} ${verdictBadge(k.status)}</td><td>${esc(k.note)}</td><td>${k.claimed === null ? 'no claim read' : k.claimed ? 'yes' : 'no'}</td><td>${runLink(k.runId)}</td><td>${esc(k.finishedAt)}</td></tr>`,
    )
    .join('');
  const history = c.history
    .slice()
    .reverse()
    .map((o) => {
      const variants = o.variants.map((v) => `${esc(v.variant)}: ${verdictBadge(v.status)}`).join(' ');
      const messages = [...new Set(o.variants.map((v) => v.message).filter(Boolean))].map((m) => esc(m)).join('<br>');
      return `<tr><td>${esc(o.finishedAt)}</td><td>${esc(o.kernel)}</td><td>${runLink(o.runId)}</td><td><code>${esc(o.spec)}</code></td><td>${o.level ? badge(o.level.level) : ''} ${verdictBadge(o.status)}</td><td>${variants}</td><td class="msg">${messages}</td></tr>`;
    })
    .join('');
  const shown = evidenceFor(c);
  const evidence = shown
    .map((o) => {
      const ectx = {
        claimFeatures: claimFeatures(c.check),
        pcapHref: (p: string): string | undefined => {
          const sha = ctx.artifacts.get(o.runId)?.get(p);
          return sha ? ROOT + paths.pcap(sha) : undefined;
        },
      };
      return `<article><h3>${esc(o.kernel)} · run ${runLink(o.runId)} · ${esc(o.finishedAt)}</h3>${o.variants.map((v) => evidenceHtml(v, ectx)).join('')}</article>`;
    })
    .join('');
  const omitted = c.history.length - shown.length;
  const head = shown[0];
  const run = head ? ctx.runs.get(head.runId) : undefined;
  const repro = head
    ? `<h2>Reproduce</h2><p>Runs this check again on the same kind of target with the seed of run ${runLink(head.runId)}:</p><pre class="repro"><code>${esc(reproduceCommand(head.spec, c.check, run?.invocation.seed))}</code></pre>`
    : '';
  const def = ctx.defs.check(c.check);
  const emulated = d.kinds.includes('qemu') ? ' <small>(emulated by QEMU)</small>' : '';
  const body = `<nav class="crumbs" aria-label="breadcrumb"><a href="${ROOT}index.html">Matrix</a> › <a href="${ROOT}${esc(paths.device(d))}">${esc(d.description)}</a> › ${esc(c.check)}</nav>
<h1><code>${esc(c.check)}</code> on ${esc(d.description)} <small>(${esc(d.driver)})</small>${emulated}</h1>
<p class="finding${c.level === 'broken' ? '' : ' ok'}">${esc(leadSentence(c))}</p>
<p class="headline">${cellBadge(c)} on kernel ${esc(c.kernel)}${head ? ` · run ${runLink(head.runId)}` : ''}</p>
<p><b>What this check does:</b> ${esc(def.definition)} <b>A pass proves:</b> ${esc(def.proves)} <a href="${ROOT}checks.html#${esc(c.check)}">All checks</a></p>
<p>${claimText(c)}</p>
${c.claimedButFailed ? '<p class="alert">Claimed but broken: the driver advertises this offload and the check found it wrong.</p>' : ''}
${regressions ? `<h2>Regressions</h2><ul class="alert">${regressions}</ul>` : ''}
${repro}
<h2>Level per kernel</h2><table class="list"><thead><tr><th scope="col">kernel</th><th scope="col">level and verdict</th><th scope="col">why</th><th scope="col">claimed</th><th scope="col">run</th><th scope="col">finished</th></tr></thead><tbody>${perKernel}</tbody></table>
<h2>History</h2><table class="list"><thead><tr><th scope="col">finished</th><th scope="col">kernel</th><th scope="col">run</th><th scope="col">target</th><th scope="col">level</th><th scope="col">variants</th><th scope="col">message</th></tr></thead><tbody>${history}</tbody></table>
<h2>Evidence</h2>${evidence}${omitted > 0 ? `<p>${omitted} other observation(s) passed or were not applicable; their evidence is in their run records.</p>` : ''}`;
  return page({ title: `${c.check} on ${d.description}`, root: ROOT, body, generatedAt });
}
