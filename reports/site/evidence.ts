/**
 * Evidence of one verdict as HTML: seed, the features the check depends on
 * (the full snapshot folded), counter deltas, offending frames with a link
 * to their pcap, and any other facts the check recorded. Pure.
 */
import type { VariantResult } from '../../matrix/history.js';
import type { FeatureSnapshot } from '../../matrix/record.js';
import { misplacement } from '../../matrix/findings.js';
import { frameHtml } from './frame.js';
import { esc, verdictBadge } from './html.js';
import { clip } from '../text.js';

const KNOWN = new Set(['seed', 'features', 'counters', 'frames', 'pcap']);
const MAX_JSON = 4000;

export interface EvidenceContext {
  /** Href of a stored pcap (relative to this page), or undefined when the store does not have it. */
  pcapHref(path: string): string | undefined;
  /** Features the check depends on; they are shown first. */
  claimFeatures: readonly string[];
  /** Level of the variant's heading (default 4). */
  heading?: number;
}

function featuresHtml(f: FeatureSnapshot, relevant: readonly string[]): string {
  const row = (name: string): string => {
    // Called with f's own keys, or names filtered on f having them.
    const s = f[name]!;
    return `<tr><td><code>${esc(name)}</code></td><td>${s.active ? 'on' : 'off'}</td><td>${s.fixed === true ? '[fixed]' : ''}</td></tr>`;
  };
  const names = Object.keys(f).sort();
  const first = relevant.filter((n) => f[n] !== undefined);
  const head = first.length
    ? `<table class="kv"><tr><th>feature the check depends on</th><th>state</th><th></th></tr>${first.map(row).join('')}</table>`
    : '';
  return `${head}<details><summary>all ${names.length} features (ethtool -k)</summary><table class="kv">${names.map(row).join('')}</table></details>`;
}

function countersHtml(title: string, c: Record<string, number> | undefined): string {
  if (!c || Object.keys(c).length === 0) return '';
  const rows = Object.entries(c)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td class="num">${esc(String(v))}</td></tr>`);
  return `<table class="kv"><tr><th>${esc(title)}</th><th>delta</th></tr>${rows.join('')}</table>`;
}

/** The evidence block of one variant. */
export function evidenceHtml(v: VariantResult, ctx: EvidenceContext): string {
  const e = v.evidence;
  const h = ctx.heading ?? 4;
  const parts: string[] = [
    `<h${h}>${esc(v.variant)} ${verdictBadge(v.status)} <small>${esc(String(v.durationMs))} ms${e.seed !== undefined ? ` · seed ${esc(String(e.seed))}` : ''}</small></h${h}>`,
  ];
  if (v.message) parts.push(`<p class="msg">${esc(v.message)}</p>`);
  if (e.features) parts.push(featuresHtml(e.features, ctx.claimFeatures));
  parts.push(countersHtml('nstat', e.counters?.nstat), countersHtml('ethtool -S', e.counters?.ethtool));
  if (e.frames?.length) {
    parts.push(
      `<ol class="frames">${e.frames.map((f) => `<li><p>${esc(f.reason)}</p>${frameHtml(f.hex, misplacement(f.reason)?.diffs)}</li>`).join('')}</ol>`,
    );
  }
  if (typeof e.pcap === 'string') {
    const href = ctx.pcapHref(e.pcap);
    parts.push(
      href
        ? `<p>Offending frames: <a class="pcap" href="${esc(href)}" download>${esc(e.pcap)}</a> (pcap)</p>`
        : `<p>Pcap <code>${esc(e.pcap)}</code> was referenced but not stored with the record.</p>`,
    );
  }
  const other = Object.entries(e).filter(([k]) => !KNOWN.has(k));
  if (other.length)
    parts.push(
      `<details><summary>other evidence</summary><pre>${esc(clip(JSON.stringify(Object.fromEntries(other), null, 2), MAX_JSON))}</pre></details>`,
    );
  return `<section class="evidence">${parts.join('')}</section>`;
}
