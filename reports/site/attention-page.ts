/**
 * The page that lists what needs a look, grouped by device: regressions
 * (naming the kernel where each first appeared), claimed-but-broken cells,
 * other broken and inconclusive cells, setup errors, untested devices. Pure.
 */
import type { Cell, DeviceRow, Matrix } from '../../matrix/aggregate.js';
import { cellBadge, esc, page, paths } from './html.js';

/** The kernel where a regressed cell's current failure streak began. */
export function firstRegressedKernel(c: Cell): string | undefined {
  let first: string | undefined;
  for (const k of c.perKernel) {
    if (k.status === 'fail' && k.regression) first ??= k.kernel;
    else if (k.status === 'pass') first = undefined;
  }
  return first ?? c.regressions[c.regressions.length - 1]?.to.kernel;
}

function cellItem(d: DeviceRow, c: Cell, why: string): string {
  return `<li><a href="${esc(paths.cell(d, c.check))}"><code>${esc(c.check)}</code></a> ${cellBadge(c)} on ${esc(c.kernel)}${why ? ` — ${esc(why)}` : ''}</li>`;
}

export function attentionPage(m: Matrix, generatedAt: string): string {
  const groups: string[] = [];
  let regressions = 0;
  let claimed = 0;
  let broken = 0;
  for (const d of m.devices) {
    const cells = Object.values(m.cells[d.key] ?? {});
    const items: string[] = [];
    for (const c of cells.filter((x) => x.regressed)) {
      regressions++;
      items.push(cellItem(d, c, `regression, first broken on ${firstRegressedKernel(c) ?? c.kernel}: ${c.note}`));
    }
    for (const c of cells.filter((x) => x.claimedButFailed && !x.regressed)) {
      claimed++;
      items.push(cellItem(d, c, `the driver claims this offload: ${c.note}`));
    }
    for (const c of cells.filter((x) => x.level === 'broken' && !x.regressed && !x.claimedButFailed)) {
      broken++;
      items.push(cellItem(d, c, c.note));
    }
    for (const c of cells.filter((x) => x.level === 'inconclusive')) items.push(cellItem(d, c, c.note));
    for (const e of d.setupErrors) items.push(`<li>could not be set up on ${esc(e.kernel)}: [${esc(e.code)}] ${esc(e.message)}</li>`);
    if (items.length === 0) continue;
    groups.push(
      `<section aria-labelledby="g-${esc(d.slug)}"><h3 id="g-${esc(d.slug)}"><a href="${esc(paths.device(d))}">${esc(d.description)}</a> <small>(${esc(d.driver)})</small></h3><ul class="attn">${items.join('')}</ul></section>`,
    );
  }
  const untested = m.devices
    .filter((d) => d.untested)
    .map(
      (d) => `<li><a href="${esc(paths.device(d))}">${esc(d.description)}</a> (${esc(d.driver)})${d.note ? `: ${esc(d.note)}` : ''}</li>`,
    );
  const body = [
    '<h1>Needs attention</h1>',
    `<p><span id="regressions">${regressions} regression(s)</span> · <span id="claimed">${claimed} more claimed but broken</span> · ${broken} other broken cell(s). Subscribe to new regressions: <a href="regressions.atom">Atom feed</a>.</p>`,
    groups.length
      ? `<h2 id="by-device">By device</h2>\n${groups.join('\n')}`
      : '<p>Nothing is broken, inconclusive or failed to set up.</p>',
    `<h2 id="untested">Not yet tested (${untested.length})</h2>${untested.length ? `<ul>${untested.join('')}</ul>` : '<p>Every known device has results.</p>'}`,
  ].join('\n');
  return page({ title: 'Needs attention', root: '', body, generatedAt, feed: true });
}
