/**
 * The matrix page: devices as rows, check families and checks as columns,
 * each cell its support level in colour and words with the plain verdict
 * underneath, linking to its page. Column headers carry the check's
 * definition (hover and focus). Filters, sort, compare, kernel views and
 * keyboard navigation come from `client.ts`; the per-kernel levels it needs
 * are in `matrix-data.js` (see `kernelCodes`). Pure.
 */
import type { Cell, DeviceRow, Matrix } from '../../matrix/aggregate.js';
import type { DefinitionIndex } from '../../matrix/definitions.js';
import type { KernelVerdict } from '../../matrix/history.js';
import { LEVEL_MEANING, LEVEL_TEXT, LEVELS, type Level } from '../../matrix/levels.js';
import type { Status } from '../../matrix/record.js';
import { esc, page, paths, STATE_TEXT, type CellState } from './html.js';

/** One letter per level; a broken cell's letter carries its flags. `.` = not run on that kernel. */
export const LEVEL_CODE = {
  offloaded: 'o',
  partial: 'p',
  software: 's',
  broken: 'b',
  brokenRegressed: 'r',
  brokenClaimed: 'c',
  brokenBoth: 'x',
  inconclusive: 'i',
  flaky: 'f',
  'not-tested': 'n',
  none: '.',
} as const;

/** One letter per plain verdict. */
export const STATUS_CODE: Record<Status, string> = { pass: 'P', fail: 'F', unsupported: 'U', skip: 'S', error: 'E' };

function levelCode(v: KernelVerdict): string {
  if (v.level !== 'broken') return LEVEL_CODE[v.level];
  const claimed = v.claimed === true && v.status === 'fail';
  return v.regression
    ? claimed
      ? LEVEL_CODE.brokenBoth
      : LEVEL_CODE.brokenRegressed
    : claimed
      ? LEVEL_CODE.brokenClaimed
      : LEVEL_CODE.broken;
}

/** Two letters per matrix kernel (level, verdict) of one cell; `..` where it did not run. */
export function kernelCodes(c: Cell | undefined, kernels: readonly string[]): string {
  if (!c) return '..'.repeat(kernels.length);
  const by = new Map(c.perKernel.map((v) => [v.kernel, v]));
  return kernels
    .map((k) => {
      const v = by.get(k);
      return v ? levelCode(v) + STATUS_CODE[v.status] : '..';
    })
    .join('');
}

/**
 * The script the matrix page loads first: the rows the client builds the grid from. Per device:
 * [slug, description, the line under it, driver, PCI id, number of broken cells, search text,
 * 1 if nobody ran it]; per row the per-kernel codes of every check (`kernelCodes`), space
 * separated, null for an untested device.
 */
export function matrixDataScript(m: Matrix): string {
  const data = {
    kernels: m.kernels,
    devices: m.devices.map((d) => [
      d.slug,
      d.description,
      subLine(d),
      d.driver,
      d.pciId ?? '',
      findings(m, d),
      searchText(d),
      d.untested ? 1 : 0,
    ]),
    rows: m.devices.map((d) => (d.untested ? null : m.checks.map((check) => kernelCodes(m.cells[d.key]?.[check], m.kernels)).join(' '))),
  };
  return `window.NICMATRIX_DATA=${JSON.stringify(data).replace(/</g, '\\u003c')};\n`;
}

/** The words a cell shows: the level, its marks, and the plain verdict underneath. */
export function cellInner(state: CellState, status: Status | undefined, flags: { regressed?: boolean; claimed?: boolean }): string {
  const marks =
    (flags.regressed ? '<i title="regression: passed before, broken now">▼<span class="sr"> regression</span></i>' : '') +
    (flags.claimed ? '<i title="the driver claims this offload">!<span class="sr"> claimed by the driver</span></i>' : '');
  return `<b>${esc(STATE_TEXT[state])}</b>${marks}${status ? `<small>${status}</small>` : ''}`;
}

/** A cell of the static table (read without script; the script builds its own grid from `matrix-data.js`). */
function cellTd(d: DeviceRow, check: string, fam: number, c: Cell | undefined): string {
  const state: CellState = d.untested ? 'untested' : c ? c.level : 'none';
  const flags = `${c?.regressed ? ' rg' : ''}${c?.claimedButFailed ? ' cf' : ''}`;
  const text = cellInner(state, c?.status, { regressed: c?.regressed, claimed: c?.claimedButFailed });
  const inner = c ? `<a href="${esc(paths.cell(d, check))}">${text}</a>` : `<span>${text}</span>`;
  return `<td class="v v-${state} f${fam}${flags}">${inner}</td>`;
}

/** Cells a reader must look at: broken ones. */
function findings(m: Matrix, d: DeviceRow): number {
  return Object.values(m.cells[d.key] ?? {}).filter((c) => c.level === 'broken').length;
}

function emulatedOf(d: DeviceRow): string {
  return d.kinds.includes('qemu') ? 'emulated (QEMU)' : d.kinds.every((k) => k === 'lo' || k === 'veth') && !d.untested ? 'virtual' : '';
}

/** The small line under a device's name. */
function subLine(d: DeviceRow): string {
  return [
    emulatedOf(d),
    d.untested ? d.pciId : d.key.slice(0, d.key.indexOf('|')),
    d.firmware && `fw ${d.firmware}`,
    d.untested ? 'not yet tested' : `${d.kernels.length} kernel(s)`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** What the search box matches a device against. */
function searchText(d: DeviceRow): string {
  return [d.description, d.driver, d.model, d.pciId, d.firmware, ...d.specs, emulatedOf(d)].filter(Boolean).join(' ').toLowerCase();
}

/** `famOf` is `m.checks` mapped: one family index per check. */
function rowHtml(m: Matrix, d: DeviceRow, famOf: number[]): string {
  const cells = m.checks.map((check, i) => cellTd(d, check, famOf[i]!, m.cells[d.key]?.[check])).join('');
  return `<tr data-driver="${esc(d.driver)}"${d.untested ? ' class="untested"' : ''}><th scope="row"><a href="${esc(paths.device(d))}">${esc(d.description)}</a><small>${esc(subLine(d))}</small></th><td class="drv">${esc(d.driver)}</td>${cells}</tr>`;
}

function options(values: readonly string[], all: string): string {
  return `<option value="">${esc(all)}</option>` + values.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('');
}

/** The legend: every level's word, colour and meaning, plus the marks. */
export function legendHtml(): string {
  const items = (LEVELS as readonly CellState[])
    .concat(['none', 'untested'])
    .map((s) => {
      const meaning =
        s === 'none'
          ? 'the device never ran this check'
          : s === 'untested'
            ? 'nobody has submitted a run record for this device'
            : LEVEL_MEANING[s as Level];
      return `<li><span class="badge v-${s}">${esc(STATE_TEXT[s])}</span> ${esc(meaning)}</li>`;
    })
    .join('');
  return `<section class="legend" aria-labelledby="legend-h"><h2 id="legend-h">What the cells say</h2><ul>${items}
<li><i>▼</i> regression: passed before, broken now</li><li><i>!</i> the driver claims the offload and it is broken</li>
<li>Under each level, the plain verdict of its variants: pass, fail, unsupported (not offered; software fallback checked), skip, error.</li></ul></section>`;
}

export function matrixPage(m: Matrix, generatedAt: string, defs: DefinitionIndex): string {
  const famOf = m.checks.map((c) => m.families.findIndex((f) => f.checks.includes(c)));
  const cells = Object.values(m.cells).flatMap((c) => Object.values(c));
  const regressions = cells.filter((c) => c.regressed).length;
  const claimedFailed = cells.filter((c) => c.claimedButFailed).length;
  const untested = m.devices.filter((d) => d.untested).length;
  const drivers = [...new Set(m.devices.map((d) => d.driver))].sort();
  const levelOptions = (LEVELS as readonly CellState[])
    .concat(['none', 'untested'])
    .map(
      (s) =>
        `<option value="${s}">${esc(s === 'none' ? 'not run' : s === 'untested' ? 'untested device' : LEVEL_TEXT[s as Level])}</option>`,
    )
    .join('');
  // Header links leave the tab order in the script's grid (arrow keys move there), not in the static table.
  const head = (tab: string): string => {
    const famHead = m.families
      .map((f, i) => {
        const fd = defs.family(f.name);
        return `<th scope="colgroup" colspan="${f.checks.length}" class="fam f${i}"><a href="checks.html#${esc(f.name)}" class="tip"${tab}>${esc(f.name)}<span role="tooltip">${esc(fd.title)}: ${esc(fd.definition)}</span></a></th>`;
      })
      .join('');
    const checkHead = m.checks
      .map((c, i) => {
        const cd = defs.check(c);
        const tip = `${c}: ${cd.definition} A pass proves: ${cd.proves}${cd.features.length ? ` (ethtool: ${cd.features.join(', ')})` : ''}`;
        return `<th scope="col" class="chk f${famOf[i]}" data-check="${esc(c)}"><a href="checks.html#${esc(c)}" class="tip"${tab}><span class="vl">${esc(c.slice(c.indexOf('/') + 1))}</span><span role="tooltip">${esc(tip)}</span></a></th>`;
      })
      .join('');
    return `<thead><tr><th rowspan="2" scope="col" class="corner">Device</th><th rowspan="2" scope="col" class="drvh">Driver</th>${famHead}</tr><tr>${checkHead}</tr></thead>`;
  };
  const kernelOptions = options(m.kernels, 'newest per cell');
  const body = `<h1>NIC and driver compatibility matrix</h1>
<p class="summary">${m.devices.length - untested} devices tested, ${untested} not yet tested · ${m.checks.length} checks · ${m.kernels.length} kernels · <a href="runs.html">${m.runs.length} runs</a> ·
<a href="attention.html#regressions">${regressions} regressions</a> · <a href="attention.html#claimed">${claimedFailed} claimed but broken</a> · <a href="checks.html">what each check means</a></p>
${legendHtml()}
<form id="filters" role="search" aria-label="filter the matrix" onsubmit="return false">
<label>Search <input id="q" type="search" placeholder="words, PCI id or an lspci -nn line  ( / )" autocomplete="off"></label>
<label>Driver <select id="f-driver">${options(drivers, 'all drivers')}</select></label>
<label>Family <select id="f-family">${options(
    m.families.map((f) => f.name),
    'all families',
  )}</select></label>
<label>Kernel <select id="f-kernel">${kernelOptions}</select></label>
<label>Compared with <select id="f-base">${options(m.kernels, 'no kernel diff')}</select></label>
<label>Level <select id="f-level"><option value="">any level</option>${levelOptions}<option value="rg">regression</option><option value="cf">claimed but broken</option></select></label>
<label>Sort <select id="f-sort"><option value="">device</option><option value="driver">driver</option><option value="findings">most findings</option></select></label>
<span class="compare"><button type="button" id="compare">Compare checked</button><button type="button" id="compare-off" hidden>Show all devices</button><label class="inline"><input type="checkbox" id="f-differ"> only checks that differ</label></span>
<output id="shown" aria-live="polite"></output></form>
<p class="hint">Arrow keys move between cells, Enter opens one, / searches. Hover or focus a column header for what the check proves. The address bar keeps the filters: copy it to share this view.</p>
<div class="scroll" id="grid" tabindex="-1" hidden><table id="matrix" class="mx" role="grid" aria-label="support level per device and check">
${head(' tabindex="-1"')}<tbody></tbody></table></div>
<p id="empty" hidden>Nothing matches these filters.</p>
<noscript><p class="hint">Without JavaScript the matrix is one static table: filters, kernel views and keyboard paths need the script.</p>
<div class="scroll"><table id="matrix-static" class="mx" aria-label="support level per device and check">
${head('')}<tbody>${m.devices.map((d) => rowHtml(m, d, famOf)).join('\n')}</tbody></table></div></noscript>`;
  return page({
    title: 'Compatibility matrix',
    root: '',
    body,
    scripts: ['matrix-data.js', 'matrix.js'],
    generatedAt,
    skipTo: 'grid',
    feed: true,
  });
}
