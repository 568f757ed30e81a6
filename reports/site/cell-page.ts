/**
 * The page of one device × check: the headline verdict with its flags, the
 * verdict on every kernel, the whole history and the evidence of the runs
 * that matter (the headline and the failures). Pure.
 */
import type { Cell, DeviceRow } from '../../matrix/aggregate.js';
import { claimFeatures } from '../../matrix/claims.js';
import type { Observation } from '../../matrix/history.js';
import { evidenceHtml } from './evidence.js';
import { badge, cellBadge, esc, page, paths } from './html.js';

/** Observations whose full evidence a cell page shows; the rest are summarised. */
const MAX_EVIDENCE = 8;
const ROOT = '../../';

/** Run id → record-relative artifact path → sha256 of the stored file. */
export type ArtifactIndex = ReadonlyMap<string, ReadonlyMap<string, string>>;

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

export function cellPage(d: DeviceRow, c: Cell, artifacts: ArtifactIndex, generatedAt: string): string {
  const runLink = (id: string): string => `<code>${esc(id)}</code>`;
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
        `<tr><td>${esc(k.kernel)}</td><td>${badge(k.status, { regressed: k.regression, claimedButFailed: k.claimed === true && k.status === 'fail' })}</td><td>${k.claimed === null ? '–' : k.claimed ? 'yes' : 'no'}</td><td>${runLink(k.runId)}</td><td>${esc(k.finishedAt)}</td></tr>`,
    )
    .join('');
  const history = c.history
    .slice()
    .reverse()
    .map((o) => {
      const variants = o.variants.map((v) => `${esc(v.variant)}: ${badge(v.status)}`).join(' ');
      const messages = [...new Set(o.variants.map((v) => v.message).filter(Boolean))].map((m) => esc(m)).join('<br>');
      return `<tr><td>${esc(o.finishedAt)}</td><td>${esc(o.kernel)}</td><td>${runLink(o.runId)}</td><td><code>${esc(o.spec)}</code></td><td>${badge(o.status)}</td><td>${variants}</td><td class="msg">${messages}</td></tr>`;
    })
    .join('');
  const evidence = evidenceFor(c)
    .map((o) => {
      const ctx = {
        claimFeatures: claimFeatures(c.check),
        pcapHref: (p: string): string | undefined => {
          const sha = artifacts.get(o.runId)?.get(p);
          return sha ? ROOT + paths.pcap(sha) : undefined;
        },
      };
      return `<article><h3>${esc(o.kernel)} · run ${runLink(o.runId)} · ${esc(o.finishedAt)}</h3>${o.variants.map((v) => evidenceHtml(v, ctx)).join('')}</article>`;
    })
    .join('');
  const omitted = c.history.length - evidenceFor(c).length;
  const body = `<nav class="crumbs"><a href="${ROOT}index.html">Matrix</a> › <a href="${ROOT}${esc(paths.device(d))}">${esc(d.description)}</a> › ${esc(c.check)}</nav>
<h1><code>${esc(c.check)}</code> on ${esc(d.description)} <small>(${esc(d.driver)})</small></h1>
<p class="headline">${cellBadge(c)} on kernel ${esc(c.kernel)}</p>
<p>${claimText(c)}</p>
${c.claimedButFailed ? '<p class="alert">Claimed but failed: the driver advertises this offload and the check found it wrong.</p>' : ''}
${regressions ? `<h2>Regressions</h2><ul class="alert">${regressions}</ul>` : ''}
<h2>Verdict per kernel</h2><table class="list"><thead><tr><th>kernel</th><th>verdict</th><th>claimed</th><th>run</th><th>finished</th></tr></thead><tbody>${perKernel}</tbody></table>
<h2>History</h2><table class="list"><thead><tr><th>finished</th><th>kernel</th><th>run</th><th>target</th><th>verdict</th><th>variants</th><th>message</th></tr></thead><tbody>${history}</tbody></table>
<h2>Evidence</h2>${evidence}${omitted > 0 ? `<p>${omitted} other observation(s) passed or were not applicable; their evidence is in their run records.</p>` : ''}`;
  return page({ title: `${c.check} on ${d.description}`, root: ROOT, body, generatedAt });
}
