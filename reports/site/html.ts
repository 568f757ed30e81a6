/**
 * HTML building blocks of the website: the page frame, verdict badges and
 * the site's file layout. Every piece of data goes through `esc`; nothing
 * from a record is ever put in markup unescaped. Pure.
 */
import type { Cell, DeviceRow } from '../../matrix/aggregate.js';
import { slug } from '../../matrix/identity.js';
import { LEVEL_MEANING, LEVEL_TEXT, LEVELS, type Level } from '../../matrix/levels.js';
import type { Status } from '../../matrix/record.js';
import { htmlEscape as esc } from '../text.js';

export { esc };

/** What a matrix cell can show: a support level, no data, or a device nobody ran. */
export type CellState = Level | 'none' | 'untested';

/** The word each state shows: cells show text as well as colour, and a screen reader speaks it. */
export const STATE_TEXT: Record<CellState, string> = {
  ...LEVEL_TEXT,
  broken: 'BROKEN',
  none: 'not run',
  untested: 'untested',
};

export const STATE_TITLE: Record<CellState, string> = {
  ...(Object.fromEntries(LEVELS.map((l) => [l, `${LEVEL_TEXT[l]}: ${LEVEL_MEANING[l]}`])) as Record<Level, string>),
  none: 'not run: the device never ran this check',
  untested: 'untested: nobody has submitted a run record for this device',
};

/** What a plain verdict means, beside the level. */
export const STATUS_TITLE: Record<Status, string> = {
  pass: 'pass: judged correct',
  fail: 'fail: judged wrong',
  unsupported: 'unsupported: the device does not offer the feature; the software fallback was checked',
  skip: 'skip: not applicable',
  error: 'error: the harness failed, no verdict',
};

/** Site-relative paths of the pages. */
export const paths = {
  device: (d: Pick<DeviceRow, 'slug'>): string => `d/${d.slug}.html`,
  /** Every cell of a device is one page; the check is the fragment. */
  cells: (d: Pick<DeviceRow, 'slug'>): string => `c/${d.slug}.html`,
  cell: (d: Pick<DeviceRow, 'slug'>, check: string): string => `c/${d.slug}.html#${check}`,
  run: (runId: string): string => `r/${slug(runId)}.html`,
  pcap: (sha256: string): string => `pcap/${sha256}.pcap`,
};

/**
 * A plain verdict in words (kept under the level). Untitled badges (big grids) get their title
 * from `site.js` on hover or focus instead of repeating it in every cell.
 */
export function verdictBadge(status: Status, titled = true): string {
  return `<span class="badge s-${status}"${titled ? ` title="${esc(STATUS_TITLE[status])}"` : ''}>${esc(status)}</span>`;
}

/** A level (or state) badge with its flags in words (regression, claimed but failed). */
export function badge(state: CellState, flags: { regressed?: boolean; claimedButFailed?: boolean } = {}, titled = true): string {
  const marks =
    (flags.regressed ? '<span class="flag">▼ regression</span>' : '') +
    (flags.claimedButFailed ? '<span class="flag">! claimed but broken</span>' : '');
  return `<span class="badge v-${state}"${titled ? ` title="${esc(STATE_TITLE[state])}"` : ''}>${esc(STATE_TEXT[state])}</span>${marks}`;
}

/** The script that titles untitled badges on hover or focus (the same titles as `badge` and `verdictBadge` write). */
export function siteScript(): string {
  const titles: Record<string, string> = {};
  for (const [s, t] of Object.entries(STATE_TITLE)) titles[`v-${s}`] = t;
  for (const [s, t] of Object.entries(STATUS_TITLE)) titles[`s-${s}`] = t;
  const client = (t: Record<string, string>): void => {
    const title = (ev: Event): void => {
      const el = (ev.target as HTMLElement).closest?.('.badge');
      if (!el || el.hasAttribute('title')) return;
      const cls = Array.from(el.classList).find((c) => c in t);
      if (cls) el.setAttribute('title', t[cls]!);
    };
    document.addEventListener('mouseover', title);
    document.addEventListener('focusin', title);
  };
  return `'use strict';\n(${client.toString()})(${JSON.stringify(titles).replace(/</g, '\\u003c')});\n`;
}

/** Badge of a cell's headline: level, flags, the plain verdict. */
export function cellBadge(c: Cell): string {
  return (
    badge(c.level, c) +
    ` ${verdictBadge(c.status)}` +
    (c.claimed === true && !c.claimedButFailed ? ' <span class="claim">driver claims it</span>' : '')
  );
}

export interface PageOptions {
  title: string;
  /** `../` repeated to reach the site root from this page. */
  root: string;
  body: string;
  scripts?: string[];
  generatedAt: string;
  /** Id of the element the skip link jumps to (default: the main content). */
  skipTo?: string;
  /** Advertise the regressions feed. */
  feed?: boolean;
}

export function page(o: PageOptions): string {
  const nav = [
    ['index.html', 'Matrix'],
    ['attention.html', 'Needs attention'],
    ['checks.html', 'Checks'],
    ['runs.html', 'Runs'],
    ['regressions.atom', 'Regressions feed'],
    ['matrix.json', 'JSON'],
    ['matrix.csv', 'CSV'],
  ]
    .map(([href, text]) => `<a href="${o.root}${href}">${text}</a>`)
    .join('');
  const scripts = (o.scripts ?? []).map((s) => `<script src="${o.root}${s}" defer></script>`).join('');
  const feed = o.feed
    ? `<link rel="alternate" type="application/atom+xml" title="nicmatrix regressions" href="${o.root}regressions.atom">`
    : '';
  const skip = o.skipTo ?? 'content';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · nicmatrix</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${o.root}style.css">${feed}${scripts}</head>
<body><a class="skip" href="#${skip}">Skip to ${o.skipTo ? 'the matrix' : 'content'}</a><header class="top"><a class="brand" href="${o.root}index.html">nicmatrix</a><nav aria-label="site">${nav}</nav></header>
<main id="content">${o.body}</main>
<footer>Generated ${esc(o.generatedAt)} by nicmatrix from run records. Levels: offloaded, partial, software, broken, inconclusive, not tested; the plain verdict (pass, fail, unsupported, skip, error) stays under each.</footer>
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
