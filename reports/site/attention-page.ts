/** The page that lists what needs a look: regressions, claimed-but-failed cells, setup errors, untested devices. Pure. */
import type { Cell, DeviceRow, Matrix } from '../../matrix/aggregate.js';
import { cellBadge, esc, page, paths } from './html.js';

function cellItem(d: DeviceRow, c: Cell): string {
  return `<li><a href="${esc(paths.cell(d, c.check))}">${esc(d.description)} (${esc(d.driver)}) · <code>${esc(c.check)}</code></a> ${cellBadge(c)} on ${esc(c.kernel)}</li>`;
}

function section(id: string, title: string, items: string[], none: string): string {
  return `<h2 id="${id}">${esc(title)} (${items.length})</h2>${items.length ? `<ul class="attn">${items.join('')}</ul>` : `<p>${esc(none)}</p>`}`;
}

export function attentionPage(m: Matrix, generatedAt: string): string {
  const cells = m.devices.flatMap((d) => Object.values(m.cells[d.key] ?? {}).map((c) => ({ d, c })));
  const body = [
    '<h1>Regressions and claims</h1>',
    section(
      'regressions',
      'Regressions: passed before, fail now',
      cells.filter(({ c }) => c.regressed).map(({ d, c }) => cellItem(d, c)),
      'No regressions.',
    ),
    section(
      'claimed',
      'Claimed but failed: the driver advertises the offload and the check fails',
      cells.filter(({ c }) => c.claimedButFailed).map(({ d, c }) => cellItem(d, c)),
      'No device fails an offload it claims.',
    ),
    section(
      'setup',
      'Targets that could not be set up',
      m.devices.flatMap((d) =>
        d.setupErrors.map(
          (e) =>
            `<li><a href="${esc(paths.device(d))}">${esc(d.description)}</a> on ${esc(e.kernel)}: [${esc(e.code)}] ${esc(e.message)}</li>`,
        ),
      ),
      'None.',
    ),
    section(
      'untested',
      'Not yet tested',
      m.devices
        .filter((d) => d.untested)
        .map(
          (d) =>
            `<li><a href="${esc(paths.device(d))}">${esc(d.description)}</a> (${esc(d.driver)})${d.note ? `: ${esc(d.note)}` : ''}</li>`,
        ),
      'Every known device has results.',
    ),
  ].join('\n');
  return page({ title: 'Regressions and claims', root: '', body, generatedAt });
}
