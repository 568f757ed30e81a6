/**
 * The matrix page's script, written as a self-contained function and shipped
 * as its source text (`matrixScript`): filters (driver, family, kernel,
 * verdict, text), per-kernel views from `NICMATRIX_DATA`, and arrow-key
 * navigation of the grid with a roving tabindex. No framework, no imports.
 */
export function matrixClient(): void {
  const started = performance.now();
  const STATE: Record<string, string> = {
    p: 'pass',
    f: 'fail',
    r: 'fail',
    c: 'fail',
    b: 'fail',
    u: 'unsupported',
    s: 'skip',
    e: 'error',
    '.': 'none',
  };
  const TEXT: Record<string, string> = { pass: 'pass', fail: 'FAIL', unsupported: 'unsup', skip: 'skip', error: 'ERROR', none: '–' };
  const data = (window as unknown as { NICMATRIX_DATA?: { kernels: string[]; rows: (string | null)[] } }).NICMATRIX_DATA;
  const table = document.getElementById('matrix') as HTMLTableElement;
  const rows = Array.from(table.tBodies[0].rows);
  const checkThs = Array.from(table.tHead!.rows[1].cells);
  const famThs = Array.from(table.tHead!.rows[0].cells).slice(2);
  const checks = checkThs.map((th) => th.title.toLowerCase());
  const famOf = checkThs.map((th) => Number(/\bf(\d+)\b/.exec(th.className)![1]));
  const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
  const q = $<HTMLInputElement>('q');
  const sel = {
    driver: $<HTMLSelectElement>('f-driver'),
    family: $<HTMLSelectElement>('f-family'),
    kernel: $<HTMLSelectElement>('f-kernel'),
    verdict: $<HTMLSelectElement>('f-verdict'),
  };
  const dyn = document.createElement('style');
  document.head.appendChild(dyn);
  // The headline cells as served, captured on the first kernel switch (not at load: 6000 reads).
  let original: { cls: string; html: string }[][] | undefined;
  const codes = data ? data.rows.map((s) => (s === null ? null : s.split(' '))) : [];
  let visRows: HTMLTableRowElement[] = rows;
  let visCols: number[] = checks.map((_, j) => j);
  let pos = { r: 0, c: -1 };

  function showKernel(k: number): void {
    const saved = (original ??= rows.map((r) =>
      Array.from(r.cells)
        .slice(2)
        .map((td) => ({ cls: td.className, html: td.innerHTML })),
    ));
    rows.forEach((row, i) => {
      const rowCodes = codes[i];
      Array.from(row.cells)
        .slice(2)
        .forEach((td, j) => {
          if (k < 0 || !rowCodes) {
            td.title = '';
            td.className = saved[i][j].cls;
            td.innerHTML = saved[i][j].html;
            return;
          }
          const code = rowCodes[j][k];
          const state = STATE[code];
          td.title = '';
          td.className = `v v-${state} f${famOf[j]}${code === 'r' || code === 'b' ? ' rg' : ''}${code === 'c' || code === 'b' ? ' cf' : ''}`;
          const holder = td.firstElementChild as HTMLElement;
          holder.textContent = TEXT[state];
          if (code === 'r' || code === 'b') holder.appendChild(document.createElement('i')).textContent = '▼';
          if (code === 'c' || code === 'b') holder.appendChild(document.createElement('i')).textContent = '!';
        });
    });
  }

  function apply(): void {
    const text = q.value.trim().toLowerCase();
    const rowHit = (r: HTMLTableRowElement): boolean => r.dataset.t!.includes(text);
    const anyRow = text !== '' && rows.some(rowHit);
    const anyCol = text !== '' && checks.some((c) => c.includes(text));
    const fam = sel.family.selectedIndex - 1;
    visCols = checks
      .map((_, j) => j)
      .filter((j) => (fam < 0 || famOf[j] === fam) && (!anyCol || checks[j].includes(text)) && (text === '' || anyRow || anyCol));
    const shown = new Set(visCols);
    const hidden = checks.map((_, j) => j).filter((j) => !shown.has(j));
    dyn.textContent =
      hidden.map((j) => `#matrix tbody td:nth-child(${j + 3}),#matrix thead tr:nth-child(2) th:nth-child(${j + 1})`).join(',') +
      (hidden.length ? '{display:none}' : '');
    famThs.forEach((th, f) => {
      const n = visCols.filter((j) => famOf[j] === f).length;
      th.hidden = n === 0;
      th.colSpan = Math.max(n, 1);
    });
    const verdict = sel.verdict.value;
    const cellHit = (td: HTMLTableCellElement): boolean =>
      verdict === 'rg' || verdict === 'cf' ? td.classList.contains(verdict) : td.classList.contains(`v-${verdict}`);
    table.classList.toggle('vf', verdict !== '');
    visRows = rows.filter((r) => {
      let ok =
        (sel.driver.value === '' || r.dataset.driver === sel.driver.value) &&
        (text === '' || !anyRow || rowHit(r)) &&
        (text === '' || anyRow || anyCol);
      if (ok && verdict !== '') {
        let any = false;
        for (const j of visCols) {
          const td = r.cells[j + 2];
          const hit = cellHit(td);
          td.classList.toggle('hit', hit);
          any ||= hit;
        }
        ok = any;
      }
      r.hidden = !ok;
      return ok;
    });
    $<HTMLOutputElement>('shown').value = `${visRows.length} of ${rows.length} devices, ${visCols.length} of ${checks.length} checks`;
    $<HTMLElement>('empty').hidden = visRows.length > 0 && visCols.length > 0;
    if (!visRows.includes(rows[pos.r]) || (pos.c >= 0 && !shown.has(pos.c))) setPos(0, -1, false);
  }

  function cellEl(row: HTMLTableRowElement, c: number): HTMLElement {
    return (c < 0 ? row.cells[0].firstElementChild : row.cells[c + 2].firstElementChild) as HTMLElement;
  }

  function setPos(visRow: number, c: number, focus: boolean): void {
    const row = visRows[visRow];
    if (!row) return;
    const prev = rows[pos.r] && cellEl(rows[pos.r], pos.c);
    if (prev) prev.tabIndex = -1;
    pos = { r: rows.indexOf(row), c };
    const el = cellEl(row, c);
    el.tabIndex = 0;
    if (focus) el.focus();
  }

  table.addEventListener('keydown', (ev) => {
    const cols = [-1, ...visCols];
    let r = visRows.indexOf(rows[pos.r]);
    let ci = Math.max(0, cols.indexOf(pos.c));
    switch (ev.key) {
      case 'ArrowDown':
        r++;
        break;
      case 'ArrowUp':
        r--;
        break;
      case 'ArrowRight':
        ci++;
        break;
      case 'ArrowLeft':
        ci--;
        break;
      case 'PageDown':
        r += 10;
        break;
      case 'PageUp':
        r -= 10;
        break;
      case 'Home':
        ci = 0;
        if (ev.ctrlKey) r = 0;
        break;
      case 'End':
        ci = cols.length - 1;
        if (ev.ctrlKey) r = visRows.length - 1;
        break;
      default:
        return;
    }
    ev.preventDefault();
    setPos(Math.min(Math.max(r, 0), visRows.length - 1), cols[Math.min(Math.max(ci, 0), cols.length - 1)], true);
  });
  table.addEventListener('focusin', (ev) => {
    const td = (ev.target as HTMLElement).closest('td,th') as HTMLTableCellElement | null;
    const row = td?.parentElement as HTMLTableRowElement | null;
    if (!td || !row || !visRows.includes(row) || td.cellIndex === 1) return;
    setPos(visRows.indexOf(row), td.cellIndex === 0 ? -1 : td.cellIndex - 2, false);
  });
  table.addEventListener('mouseover', (ev) => {
    const td = (ev.target as HTMLElement).closest('td.v') as HTMLTableCellElement | null;
    if (!td || td.title) return;
    const row = td.parentElement as HTMLTableRowElement;
    const state = /\bv-(\w+)/.exec(td.className)![1];
    const flags = (td.classList.contains('rg') ? ' · regression' : '') + (td.classList.contains('cf') ? ' · claimed but failed' : '');
    td.title = `${checkThs[td.cellIndex - 2].title} · ${row.cells[0].firstElementChild!.textContent}: ${state === 'none' ? 'not run' : state}${flags}`;
  });
  document.addEventListener('keydown', (ev) => {
    const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement;
    if (ev.key === '/' && !typing) {
      ev.preventDefault();
      q.focus();
    } else if (ev.key === 'Escape' && ev.target === q) {
      q.value = '';
      apply();
    }
  });
  q.addEventListener('input', apply);
  sel.driver.addEventListener('change', apply);
  sel.family.addEventListener('change', apply);
  sel.verdict.addEventListener('change', apply);
  sel.kernel.addEventListener('change', () => {
    showKernel(data ? data.kernels.indexOf(sel.kernel.value) : -1);
    apply();
  });
  if (!data) sel.kernel.disabled = true;
  apply();
  setPos(0, -1, false);
  document.documentElement.dataset.ready = '1';
  // For the benchmark: when the page became interactive, and what the script's own setup cost.
  Object.assign(window, { __nicmatrixReady: performance.now(), __nicmatrixInitMs: performance.now() - started });
}

/** The script file's text. */
export function matrixScript(): string {
  return `'use strict';\n(${matrixClient.toString()})();\n`;
}
