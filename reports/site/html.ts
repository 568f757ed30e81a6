/**
 * HTML building blocks of the website: the page frame, verdict badges and
 * the site's file layout. Every piece of data goes through `esc`; nothing
 * from a record is ever put in markup unescaped. Pure.
 */
import type { Cell, DeviceRow } from '../../matrix/aggregate.js';
import { slug } from '../../matrix/identity.js';
import type { Status } from '../../matrix/record.js';
import { htmlEscape as esc } from '../text.js';

export { esc };

/** What a matrix cell can show: a verdict, no data, or a device nobody ran. */
export type CellState = Status | 'none' | 'untested';

/** Short text of each state: cells show text as well as colour. */
export const STATE_TEXT: Record<CellState, string> = {
  pass: 'pass',
  fail: 'FAIL',
  unsupported: 'unsup',
  skip: 'skip',
  error: 'ERROR',
  none: '–',
  untested: 'untested',
};

export const STATE_TITLE: Record<CellState, string> = {
  pass: 'pass',
  fail: 'fail',
  unsupported: 'unsupported: the device does not offer the feature; software fallback checked',
  skip: 'skip: not applicable',
  error: 'error: the harness failed, no verdict',
  none: 'not run',
  untested: 'not yet tested',
};

/** Site-relative paths of the pages. */
export const paths = {
  device: (d: Pick<DeviceRow, 'slug'>): string => `d/${d.slug}.html`,
  cell: (d: Pick<DeviceRow, 'slug'>, check: string): string => `c/${d.slug}/${slug(check)}.html`,
  pcap: (sha256: string): string => `pcap/${sha256}.pcap`,
};

/** A verdict badge with its flags in words (regression, claimed but failed). */
export function badge(state: CellState, flags: { regressed?: boolean; claimedButFailed?: boolean } = {}): string {
  const marks = [
    flags.regressed ? '<span class="flag">▼ regression</span>' : '',
    flags.claimedButFailed ? '<span class="flag">! claimed</span>' : '',
  ].join('');
  return `<span class="badge v-${state}" title="${esc(STATE_TITLE[state])}">${esc(STATE_TEXT[state])}</span>${marks}`;
}

/** Badge of a cell's headline. */
export function cellBadge(c: Cell): string {
  return badge(c.status, c) + (c.claimed === true && !c.claimedButFailed ? ' <span class="claim">driver claims it</span>' : '');
}

export interface PageOptions {
  title: string;
  /** `../` repeated to reach the site root from this page. */
  root: string;
  body: string;
  scripts?: string[];
  generatedAt: string;
}

export function page(o: PageOptions): string {
  const nav = [
    ['index.html', 'Matrix'],
    ['attention.html', 'Regressions &amp; claims'],
    ['matrix.json', 'JSON'],
    ['matrix.csv', 'CSV'],
  ]
    .map(([href, text]) => `<a href="${o.root}${href}">${text}</a>`)
    .join('');
  const scripts = (o.scripts ?? []).map((s) => `<script src="${o.root}${s}" defer></script>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · nicmatrix</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${o.root}style.css">${scripts}</head>
<body><header class="top"><a class="brand" href="${o.root}index.html">nicmatrix</a><nav>${nav}</nav></header>
<main>${o.body}</main>
<footer>Generated ${esc(o.generatedAt)} by nicmatrix from run records. Verdicts: pass, fail, unsupported, skip, error.</footer>
</body></html>
`;
}

/** A two-column table of facts, skipping empty values. */
export function facts(rows: [string, string | undefined][]): string {
  const body = rows
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v!)}</td></tr>`)
    .join('');
  return `<table class="facts">${body}</table>`;
}
