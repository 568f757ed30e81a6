/**
 * The page of one device: identity, setup errors, its latest feature
 * snapshot and its verdict on every check and kernel. Pure.
 */
import type { DeviceRow, Matrix } from '../../matrix/aggregate.js';
import { badge, esc, facts, page, paths, verdictBadge } from './html.js';
import { legendHtml } from './matrix-page.js';

const ROOT = '../';

export function devicePage(m: Matrix, d: DeviceRow, generatedAt: string): string {
  const cells = m.cells[d.key] ?? {};
  const identity = facts([
    ['description', d.description],
    ['driver', d.driver],
    ['driver version', d.driverVersion],
    ['firmware', d.firmware],
    ['QEMU model', d.model],
    ['PCI id', d.pciId],
    [
      'target kinds',
      d.kinds.map((k) => (k === 'qemu' ? 'qemu (emulated device)' : k === 'phys' ? 'phys (real hardware)' : `${k} (virtual)`)).join(', '),
    ],
    ['target specs', d.specs.join(', ')],
    ['kernels', d.kernels.join(', ')],
    ['note', d.note],
  ]);
  const parts = [
    `<nav class="crumbs"><a href="${ROOT}index.html">Matrix</a> › ${esc(d.description)}</nav>`,
    `<h1>${esc(d.description)} <small>(${esc(d.driver)})${d.kinds.includes('qemu') ? ' · emulated by QEMU' : ''}</small></h1>`,
    identity,
  ];
  if (d.untested) {
    parts.push(
      '<p class="alert">Not yet tested: nobody has submitted a run record for this device. Run <code>nicmatrix run</code> on one and <code>nicmatrix ingest</code> the record.</p>',
    );
  }
  if (d.setupErrors.length) {
    parts.push(
      `<h2>Setup errors</h2><ul class="alert">${d.setupErrors.map((e) => `<li>${esc(e.kernel)}, run <code>${esc(e.runId)}</code>: [${esc(e.code)}] ${esc(e.message)}</li>`).join('')}</ul>`,
    );
  }
  if (!d.untested) {
    const head = d.kernels.map((k) => `<th scope="col">${esc(k)}</th>`).join('');
    const rows = m.checks
      .filter((c) => cells[c])
      .map((check) => {
        const c = cells[check]!;
        const by = new Map(c.perKernel.map((v) => [v.kernel, v]));
        const tds = d.kernels
          .map((k) => {
            const v = by.get(k);
            // 1200 cells: the badges' titles come from site.js on hover, not from every cell.
            return `<td>${v ? `${badge(v.level, { regressed: v.regression, claimedButFailed: v.claimed === true && v.status === 'fail' }, false)} ${verdictBadge(v.status, false)}` : badge('none', {}, false)}</td>`;
          })
          .join('');
        return `<tr><th scope="row"><a href="${ROOT}${esc(paths.cell(d, check))}">${esc(check)}</a></th>${tds}</tr>`;
      });
    parts.push(
      `<h2>Support level per check and kernel</h2>${legendHtml()}<div class="scroll"><table class="list grid"><thead><tr><th scope="col">check</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`,
    );
    const features = Object.entries(d.features)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([name, s]) =>
          `<tr><td><code>${esc(name)}</code></td><td>${s.active ? 'on' : 'off'}</td><td>${s.fixed === true ? '[fixed]' : ''}</td></tr>`,
      )
      .join('');
    parts.push(`<h2>Features (latest run, <code>ethtool -k</code>)</h2><table class="kv">${features}</table>`);
  }
  return page({ title: d.description, root: ROOT, body: parts.join('\n'), generatedAt, scripts: ['site.js'] });
}
