/**
 * The matrix page: devices as rows, check families and checks as columns,
 * each cell the headline verdict in colour and text, linking to its page.
 * Filters and keyboard navigation come from `client.ts`; the per-kernel
 * verdicts it needs are in `matrix-data.js` (see `kernelCodes`). Pure.
 */
import type { Cell, DeviceRow, Matrix } from '../../matrix/aggregate.js';
import type { KernelVerdict } from '../../matrix/history.js';
import { badge, esc, page, paths, STATE_TEXT, STATE_TITLE, type CellState } from './html.js';

/** One letter per kernel: verdict, with fail split by its flags; `.` = not run on that kernel. */
export const KERNEL_CODE = {
  pass: 'p',
  unsupported: 'u',
  skip: 's',
  error: 'e',
  none: '.',
  fail: 'f',
  failRegressed: 'r',
  failClaimed: 'c',
  failBoth: 'b',
} as const;

function codeOf(v: KernelVerdict | undefined): string {
  if (!v) return KERNEL_CODE.none;
  if (v.status !== 'fail') return KERNEL_CODE[v.status];
  const claimedFail = v.claimed === true;
  return v.regression
    ? claimedFail
      ? KERNEL_CODE.failBoth
      : KERNEL_CODE.failRegressed
    : claimedFail
      ? KERNEL_CODE.failClaimed
      : KERNEL_CODE.fail;
}

/** The string of codes of one cell, one per matrix kernel. */
export function kernelCodes(c: Cell | undefined, kernels: readonly string[]): string {
  if (!c) return KERNEL_CODE.none.repeat(kernels.length);
  const by = new Map(c.perKernel.map((v) => [v.kernel, v]));
  return kernels.map((k) => codeOf(by.get(k))).join('');
}

/** The script the matrix page loads first: per-kernel codes for every row × check. */
export function matrixDataScript(m: Matrix): string {
  const data = {
    kernels: m.kernels,
    rows: m.devices.map((d) => (d.untested ? null : m.checks.map((check) => kernelCodes(m.cells[d.key]?.[check], m.kernels)).join(' '))),
  };
  return `window.NICMATRIX_DATA=${JSON.stringify(data).replace(/</g, '\\u003c')};\n`;
}

function cellTd(d: DeviceRow, check: string, fam: number, c: Cell | undefined): string {
  const state: CellState = d.untested ? 'untested' : c ? c.status : 'none';
  const flags = `${c?.regressed ? ' rg' : ''}${c?.claimedButFailed ? ' cf' : ''}`;
  const text = esc(STATE_TEXT[state]) + (c?.regressed ? '<i>▼</i>' : '') + (c?.claimedButFailed ? '<i>!</i>' : '');
  const inner = c ? `<a href="${esc(paths.cell(d, check))}" tabindex="-1">${text}</a>` : `<span tabindex="-1">${text}</span>`;
  // No per-cell title: 6000 of them would double the page; the script adds one on hover.
  return `<td class="v v-${state} f${fam}${flags}">${inner}</td>`;
}

function row(m: Matrix, d: DeviceRow, famOf: number[]): string {
  const sub = [
    d.untested ? d.pciId : d.key.slice(0, d.key.indexOf('|')),
    d.firmware && `fw ${d.firmware}`,
    d.untested ? 'not yet tested' : `${d.kernels.length} kernel(s)`,
  ]
    .filter(Boolean)
    .join(' · ');
  const text = [d.description, d.driver, d.model, d.pciId, d.firmware, ...d.specs].filter(Boolean).join(' ').toLowerCase();
  const cells = m.checks.map((check, i) => cellTd(d, check, famOf[i], m.cells[d.key]?.[check])).join('');
  return `<tr data-driver="${esc(d.driver)}" data-t="${esc(text)}"${d.untested ? ' class="untested"' : ''}><th scope="row"><a href="${esc(paths.device(d))}" tabindex="-1">${esc(d.description)}</a><small>${esc(sub)}</small></th><td class="drv">${esc(d.driver)}</td>${cells}</tr>`;
}

function options(values: readonly string[], all: string): string {
  return `<option value="">${esc(all)}</option>` + values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('');
}

export function matrixPage(m: Matrix, generatedAt: string): string {
  const famOf = m.checks.map((c) => m.families.findIndex((f) => f.checks.includes(c)));
  const cells = Object.values(m.cells).flatMap((c) => Object.values(c));
  const regressions = cells.filter((c) => c.regressed).length;
  const claimedFailed = cells.filter((c) => c.claimedButFailed).length;
  const untested = m.devices.filter((d) => d.untested).length;
  const drivers = [...new Set(m.devices.map((d) => d.driver))].sort();
  const verdicts = ['pass', 'fail', 'unsupported', 'skip', 'error', 'none', 'untested']
    .map((s) => `<option value="${s}">${esc(STATE_TITLE[s as CellState].split(':')[0])}</option>`)
    .join('');
  const famHead = m.families
    .map((f, i) => `<th scope="colgroup" colspan="${f.checks.length}" class="fam f${i}">${esc(f.name)}</th>`)
    .join('');
  const checkHead = m.checks
    .map((c, i) => `<th scope="col" class="chk f${famOf[i]}" title="${esc(c)}"><span>${esc(c.slice(c.indexOf('/') + 1))}</span></th>`)
    .join('');
  const legend = (['pass', 'fail', 'unsupported', 'skip', 'error', 'none', 'untested'] as CellState[])
    .map((s) => `<li>${badge(s)} ${esc(STATE_TITLE[s])}</li>`)
    .join('');
  const body = `<h1>NIC and driver compatibility matrix</h1>
<p class="summary">${m.devices.length - untested} devices tested, ${untested} not yet tested · ${m.checks.length} checks · ${m.kernels.length} kernels · ${m.runs.length} runs ·
<a href="attention.html#regressions">${regressions} regressions</a> · <a href="attention.html#claimed">${claimedFailed} claimed but failed</a></p>
<form id="filters" role="search" onsubmit="return false">
<label>Search <input id="q" type="search" placeholder="device, driver, PCI id, check  ( / )" autocomplete="off"></label>
<label>Driver <select id="f-driver">${options(drivers, 'all drivers')}</select></label>
<label>Family <select id="f-family">${options(
    m.families.map((f) => f.name),
    'all families',
  )}</select></label>
<label>Kernel <select id="f-kernel">${options(m.kernels, 'newest per cell')}</select></label>
<label>Verdict <select id="f-verdict"><option value="">any verdict</option>${verdicts}<option value="rg">regression</option><option value="cf">claimed but failed</option></select></label>
<output id="shown" aria-live="polite"></output></form>
<p class="hint">Arrow keys move between cells, Enter opens one, / searches. Marks: <i>▼</i> regression (passed before, fails now), <i>!</i> the driver claims the offload and the check fails.</p>
<div class="scroll"><table id="matrix" class="mx" role="grid" aria-label="verdict per device and check">
<thead><tr><th rowspan="2" scope="col">Device</th><th rowspan="2" scope="col">Driver</th>${famHead}</tr><tr>${checkHead}</tr></thead>
<tbody>${m.devices.map((d) => row(m, d, famOf)).join('\n')}</tbody></table></div>
<p id="empty" hidden>Nothing matches these filters.</p>
<details><summary>Legend</summary><ul class="legend">${legend}</ul></details>`;
  return page({ title: 'Compatibility matrix', root: '', body, scripts: ['matrix-data.js', 'matrix.js'], generatedAt });
}
