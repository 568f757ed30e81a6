/**
 * The matrix page's script, written as a self-contained function and shipped
 * as its source text (`matrixScript`): filters (words, PCI id or a pasted
 * `lspci -nn` line, driver, family, level), kernel views and a kernel diff
 * from `NICMATRIX_DATA`, sorting, a compare view of checked devices, the
 * whole state in the URL (permalinks, back button), and arrow-key navigation
 * of the grid with a roving tabindex. No framework, no imports.
 */
export function matrixClient(): void {
  const started = performance.now();
  const LEVEL: Record<string, string> = {
    o: 'offloaded',
    p: 'partial',
    s: 'software',
    b: 'broken',
    r: 'broken',
    c: 'broken',
    x: 'broken',
    i: 'inconclusive',
    f: 'flaky',
    n: 'not-tested',
    '.': 'none',
  };
  const WORD: Record<string, string> = {
    offloaded: 'offloaded',
    partial: 'partial',
    software: 'software',
    broken: 'BROKEN',
    inconclusive: 'inconclusive',
    flaky: 'flaky',
    'not-tested': 'not tested',
    none: 'not run',
  };
  const VERDICT: Record<string, string> = { P: 'pass', F: 'fail', U: 'unsupported', S: 'skip', E: 'error', '.': '' };
  const data = (window as unknown as { NICMATRIX_DATA?: { kernels: string[]; rows: (string | null)[] } }).NICMATRIX_DATA;
  const table = document.getElementById('matrix') as HTMLTableElement;
  const tbody = table.tBodies[0];
  const rows = Array.from(tbody.rows);
  const served = rows.slice();
  const checkThs = Array.from(table.tHead!.rows[1].cells);
  const famThs = Array.from(table.tHead!.rows[0].cells).slice(2);
  const checks = checkThs.map((th) => th.dataset.check!.toLowerCase());
  const famOf = checkThs.map((th) => Number(/\bf(\d+)\b/.exec(th.className)![1]));
  const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
  const q = $<HTMLInputElement>('q');
  const sel = {
    driver: $<HTMLSelectElement>('f-driver'),
    family: $<HTMLSelectElement>('f-family'),
    kernel: $<HTMLSelectElement>('f-kernel'),
    base: $<HTMLSelectElement>('f-base'),
    level: $<HTMLSelectElement>('f-level'),
    sort: $<HTMLSelectElement>('f-sort'),
  };
  const differ = $<HTMLInputElement>('f-differ');
  const compareBtn = $<HTMLButtonElement>('compare');
  const compareOff = $<HTMLButtonElement>('compare-off');
  const dyn = document.createElement('style');
  document.head.appendChild(dyn);
  // The headline cells as served, captured on the first kernel switch (not at load: 6000 reads).
  let original: { cls: string; html: string }[][] | undefined;
  const codes = data ? data.rows.map((s) => (s === null ? null : s.split(' '))) : [];
  const indexOf = new Map(rows.map((r, i) => [r, i]));
  let compared: string[] = [];
  let visRows: HTMLTableRowElement[] = rows;
  let visCols: number[] = checks.map((_, j) => j);
  let pos = { r: rows[0], c: -1 };
  let shownKernels = '';

  function words(state: string, verdict: string, marks: string): string {
    return `<b>${WORD[state]}</b>${marks}${verdict ? `<small>${verdict}</small>` : ''}`;
  }
  const MARK_RG = '<i title="regression: passed before, broken now">▼<span class="sr"> regression</span></i>';
  const MARK_CF = '<i title="the driver claims this offload">!<span class="sr"> claimed by the driver</span></i>';

  /** Shows one kernel's levels (k < 0: the served headline), or a diff from kernel `b`. */
  function showKernel(k: number, b: number): void {
    const key = `${k} ${b}`;
    if (key === shownKernels) return;
    shownKernels = key;
    const saved = (original ??= rows.map((r) =>
      Array.from(r.cells)
        .slice(2)
        .map((td) => ({ cls: td.className, html: td.innerHTML })),
    ));
    rows.forEach((row) => {
      const i = indexOf.get(row)!;
      const rowCodes = codes[i];
      Array.from(row.cells)
        .slice(2)
        .forEach((td, j) => {
          td.title = '';
          if ((k < 0 && b < 0) || !rowCodes) {
            td.className = saved[i][j].cls;
            td.innerHTML = saved[i][j].html;
            return;
          }
          const holder = td.firstElementChild as HTMLElement;
          const cell = rowCodes[j];
          // Without a kernel chosen, a diff compares against each cell's newest kernel.
          let kk = k;
          if (kk < 0) for (kk = cell.length / 2 - 1; kk > 0 && cell[kk * 2] === '.'; kk--);
          const now = cell.slice(kk * 2, kk * 2 + 2) || '..';
          const state = LEVEL[now[0]];
          let cls = `v v-${state} f${famOf[j]}${'rx'.includes(now[0]) ? ' rg' : ''}${'cx'.includes(now[0]) ? ' cf' : ''}`;
          let html = words(state, VERDICT[now[1]], ('rx'.includes(now[0]) ? MARK_RG : '') + ('cx'.includes(now[0]) ? MARK_CF : ''));
          if (b >= 0) {
            const then = cell.slice(b * 2, b * 2 + 2);
            const changed = LEVEL[then[0]] !== state;
            cls += changed ? ' chg' : ' same';
            if (changed) html = `<small>${WORD[LEVEL[then[0]]]} →</small>${html}`;
          }
          td.className = cls;
          holder.innerHTML = html;
        });
    });
  }

  /** Search terms: PCI ids found in the text (an `lspci -nn` line has them in brackets), else its words. */
  function terms(text: string): { pci: string[]; words: string[] } {
    const pci = [...text.matchAll(/\[?\b([0-9a-f]{4}:[0-9a-f]{4})\b\]?/g)].map((m) => m[1]);
    if (pci.length > 0 && /\[[0-9a-f]{4}:[0-9a-f]{4}\]/.test(text)) return { pci, words: [] };
    return { pci: [], words: text.split(/\s+/).filter(Boolean) };
  }

  function apply(): void {
    const kernel = data ? data.kernels.indexOf(sel.kernel.value) : -1;
    const base = data ? data.kernels.indexOf(sel.base.value) : -1;
    showKernel(kernel, base);
    const { pci, words: ws } = terms(q.value.trim().toLowerCase());
    // A word names devices when some row has it, else checks when some check has it.
    const rowWords = ws.filter((w) => rows.some((r) => r.dataset.t!.includes(w)));
    const colWords = ws.filter((w) => !rowWords.includes(w) && checks.some((c) => c.includes(w)));
    const unmatched = ws.length - rowWords.length - colWords.length > 0;
    const fam = sel.family.selectedIndex - 1;
    const inCompare = (r: HTMLTableRowElement): boolean => compared.length === 0 || compared.includes(r.dataset.slug!);
    let cols = checks
      .map((_, j) => j)
      .filter((j) => (fam < 0 || famOf[j] === fam) && colWords.every((w) => checks[j].includes(w)) && !unmatched);
    const level = sel.level.value;
    const cellHit = (td: HTMLTableCellElement): boolean =>
      level === 'rg' || level === 'cf' ? td.classList.contains(level) : td.classList.contains(`v-${level}`);
    table.classList.toggle('vf', level !== '' || base >= 0);
    visRows = rows.filter((r) => {
      let ok =
        !unmatched &&
        inCompare(r) &&
        (sel.driver.value === '' || r.dataset.driver === sel.driver.value) &&
        rowWords.every((w) => r.dataset.t!.includes(w)) &&
        (pci.length === 0 || pci.some((p) => r.dataset.pci!.startsWith(p)));
      if (ok && (level !== '' || base >= 0)) {
        let any = false;
        for (const j of cols) {
          const td = r.cells[j + 2];
          const hit = (level === '' || cellHit(td)) && (base < 0 || td.classList.contains('chg'));
          td.classList.toggle('hit', hit);
          any ||= hit;
        }
        ok = any;
      }
      r.hidden = !ok;
      return ok;
    });
    if (differ.checked && visRows.length > 1) {
      cols = cols.filter((j) => {
        const first = visRows[0].cells[j + 2].className.split(' ')[1];
        return visRows.some((r) => r.cells[j + 2].className.split(' ')[1] !== first);
      });
    }
    visCols = cols;
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
    sortRows();
    compareOff.hidden = compared.length === 0;
    $<HTMLOutputElement>('shown').value =
      `${visRows.length} of ${rows.length} devices, ${visCols.length} of ${checks.length} checks` +
      (compared.length ? ` (comparing ${compared.length})` : '') +
      (base >= 0 ? ` (changes since ${sel.base.value})` : '');
    $<HTMLElement>('empty').hidden = visRows.length > 0 && visCols.length > 0;
    if (!visRows.includes(pos.r) || (pos.c >= 0 && !shown.has(pos.c))) setPos(0, -1, false);
  }

  let sortedBy = '';
  function sortRows(): void {
    const by = sel.sort.value;
    if (by === sortedBy) return;
    sortedBy = by;
    const order = served.slice();
    if (by === 'driver') order.sort((a, b) => a.dataset.driver!.localeCompare(b.dataset.driver!));
    else if (by === 'findings') order.sort((a, b) => Number(b.dataset.n) - Number(a.dataset.n));
    tbody.append(...order);
    rows.splice(0, rows.length, ...order);
    visRows = rows.filter((r) => !r.hidden);
  }

  const PARAMS = ['q', 'driver', 'family', 'kernel', 'base', 'level', 'sort'] as const;
  function control(p: (typeof PARAMS)[number]): HTMLInputElement | HTMLSelectElement {
    return p === 'q' ? q : sel[p];
  }
  function toUrl(push: boolean): void {
    const u = new URLSearchParams();
    for (const p of PARAMS) if (control(p).value) u.set(p, control(p).value);
    if (compared.length) u.set('compare', compared.join(','));
    if (differ.checked) u.set('differ', '1');
    const s = u.toString();
    const next = s ? `?${s}` : location.pathname.split('/').pop() || 'index.html';
    if (`?${s}` === location.search || (!s && !location.search)) return;
    try {
      if (push) history.pushState(null, '', next);
      else history.replaceState(null, '', next);
    } catch {
      // Some file:// contexts refuse history changes; the view still works.
    }
  }
  function fromUrl(): void {
    const u = new URLSearchParams(location.search);
    for (const p of PARAMS) {
      const el = control(p);
      const v = u.get(p) ?? '';
      if (el instanceof HTMLSelectElement && v && !Array.from(el.options).some((o) => o.value === v)) continue;
      el.value = v;
    }
    compared = (u.get('compare') ?? '').split(',').filter(Boolean);
    differ.checked = u.get('differ') === '1';
    for (const box of table.querySelectorAll<HTMLInputElement>('input.pick')) box.checked = compared.includes(box.value);
  }

  function cellEl(row: HTMLTableRowElement, c: number): HTMLElement {
    return (c < 0 ? row.cells[0].querySelector('a') : row.cells[c + 2].firstElementChild) as HTMLElement;
  }

  function setPos(visRow: number, c: number, focus: boolean): void {
    const row = visRows[visRow];
    if (!row) return;
    const prev = pos.r && cellEl(pos.r, pos.c);
    if (prev) prev.tabIndex = -1;
    pos = { r: row, c };
    const el = cellEl(row, c);
    el.tabIndex = 0;
    if (focus) el.focus();
  }

  table.addEventListener('keydown', (ev) => {
    if ((ev.target as HTMLElement).matches('input.pick')) return;
    const cols = [-1, ...visCols];
    let r = visRows.indexOf(pos.r);
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
    if (!td || !row || !visRows.includes(row) || td.cellIndex === 1 || row.parentElement !== tbody) return;
    if ((ev.target as HTMLElement).matches('input.pick')) return;
    setPos(visRows.indexOf(row), td.cellIndex === 0 ? -1 : td.cellIndex - 2, false);
  });
  table.addEventListener('mouseover', (ev) => {
    const td = (ev.target as HTMLElement).closest('td.v') as HTMLTableCellElement | null;
    if (!td || td.title) return;
    const row = td.parentElement as HTMLTableRowElement;
    const state = /\bv-([\w-]+)/.exec(td.className)![1];
    const flags = (td.classList.contains('rg') ? ' · regression' : '') + (td.classList.contains('cf') ? ' · claimed but broken' : '');
    td.title = `${checkThs[td.cellIndex - 2].dataset.check} · ${row.cells[0].querySelector('a')!.textContent}: ${WORD[state] ?? state}${flags}`;
  });
  table.addEventListener('change', (ev) => {
    const box = ev.target as HTMLInputElement;
    if (!box.matches('input.pick')) return;
    const picked = Array.from(table.querySelectorAll<HTMLInputElement>('input.pick:checked')).map((b) => b.value);
    compareBtn.textContent = picked.length ? `Compare checked (${picked.length})` : 'Compare checked';
  });
  compareBtn.addEventListener('click', () => {
    const picked = Array.from(table.querySelectorAll<HTMLInputElement>('input.pick:checked')).map((b) => b.value);
    if (picked.length < 2) {
      $<HTMLOutputElement>('shown').value = 'Check 2 to 4 devices to compare them.';
      return;
    }
    compared = picked.slice(0, 4);
    differ.checked = true;
    apply();
    toUrl(true);
  });
  compareOff.addEventListener('click', () => {
    compared = [];
    differ.checked = false;
    for (const box of table.querySelectorAll<HTMLInputElement>('input.pick')) box.checked = false;
    apply();
    toUrl(true);
  });
  document.addEventListener('keydown', (ev) => {
    const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement;
    if (ev.key === '/' && !typing) {
      ev.preventDefault();
      q.focus();
    } else if (ev.key === 'Escape' && ev.target === q) {
      q.value = '';
      apply();
      toUrl(false);
    }
  });
  q.addEventListener('input', () => {
    apply();
    toUrl(false);
  });
  for (const el of [...Object.values(sel), differ])
    el.addEventListener('change', () => {
      apply();
      toUrl(true);
    });
  window.addEventListener('popstate', () => {
    fromUrl();
    apply();
  });
  // Phones get one card per device: each cell then names its check itself (set only there, to keep pages small).
  const narrow = window.matchMedia('(max-width: 640px)');
  let labelled = false;
  const label = (): void => {
    if (labelled || !narrow.matches) return;
    labelled = true;
    for (const r of rows)
      Array.from(r.cells)
        .slice(2)
        .forEach((td, j) => (td.dataset.c = checkThs[j].dataset.check));
  };
  narrow.addEventListener('change', label);
  label();
  if (!data) sel.kernel.disabled = sel.base.disabled = true;
  fromUrl();
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
