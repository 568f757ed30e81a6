/**
 * The matrix page's script, written as a self-contained function and shipped
 * as its source text (`matrixScript`): builds the grid from `NICMATRIX_DATA`
 * (the rows that match the filters, a screenful at a time as the reader
 * scrolls, so neither loading nor a filter change builds 6000 cells), filters
 * (words, PCI id or a pasted `lspci -nn` line, driver, family, level), kernel
 * views and a kernel diff, sorting, a compare view of checked devices, the
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
    untested: 'untested',
  };
  const VERDICT: Record<string, string> = { P: 'pass', F: 'fail', U: 'unsupported', S: 'skip', E: 'error', '.': '' };
  type Data = { kernels: string[]; devices: [string, string, string, string, string, number, string, number][]; rows: (string | null)[] };
  interface Dev {
    slug: string;
    desc: string;
    sub: string;
    driver: string;
    pci: string;
    n: number;
    t: string;
    untested: boolean;
    codes: string[] | null;
  }
  const data = (window as unknown as { NICMATRIX_DATA?: Data }).NICMATRIX_DATA;
  const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
  if (!data) {
    $<HTMLElement>('empty').textContent = 'The matrix data (matrix-data.js) did not load.';
    $<HTMLElement>('empty').hidden = false;
    return;
  }
  const esc = (s: string): string =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const table = $<HTMLTableElement>('matrix');
  const grid = $<HTMLElement>('grid');
  // matrix-page.ts writes the table with its body and two header rows (families, then checks).
  const tbody = table.tBodies[0]!;
  const checkThs = Array.from(table.tHead!.rows[1]!.cells);
  const famThs = Array.from(table.tHead!.rows[0]!.cells).slice(2);
  const checkIds = checkThs.map((th) => th.dataset.check!);
  const checks = checkIds.map((c) => c.toLowerCase());
  const famOf = checkThs.map((th) => Number(/\bf(\d+)\b/.exec(th.className)![1]));
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
  const devs: Dev[] = data.devices.map(([slug, desc, sub, driver, pci, n, t, untested], i) => ({
    slug,
    desc,
    sub,
    driver,
    pci,
    n,
    t,
    untested: untested === 1,
    codes: data.rows[i] === null ? null : data.rows[i]!.split(' '),
  }));
  let order: Dev[] = devs;
  let visRows: Dev[] = devs;
  let visCols: number[] = checks.map((_, j) => j);
  let compared: string[] = [];
  const picked = new Set<string>();
  // The view: kernel shown (-1: each cell's newest), kernel diffed against (-1: none), level filter.
  let kernel = -1;
  let base = -1;
  let level = '';
  let pos = { r: 0, c: -1 };
  let rendered = 0;
  const narrow = window.matchMedia('(max-width: 640px)');

  const MARK_RG = '<i title="regression: passed before, broken now">▼<span class="sr"> regression</span></i>';
  const MARK_CF = '<i title="the driver claims this offload">!<span class="sr"> claimed by the driver</span></i>';

  // A tested device's codes: one string per check (j < checks.length), per kernel a LEVEL letter and a VERDICT letter.
  /** The two-letter code a cell shows in the current kernel view. */
  function codeAt(cell: string, k: number): string {
    let kk = k;
    // Without a kernel chosen, each cell shows its newest kernel.
    if (kk < 0) for (kk = cell.length / 2 - 1; kk > 0 && cell[kk * 2] === '.'; kk--);
    return cell.slice(kk * 2, kk * 2 + 2) || '..';
  }

  /** A cell's state word (its `v-` class) in the current view. */
  function stateOf(d: Dev, j: number): string {
    return d.codes ? LEVEL[codeAt(d.codes[j]!, kernel)[0]!]! : 'untested';
  }

  /** Whether a cell matches the level filter and the kernel diff. */
  function hits(d: Dev, j: number): boolean {
    if (!d.codes) return level === 'untested' && base < 0;
    const cell = d.codes[j]!;
    const now = codeAt(cell, kernel)[0]!;
    if (base >= 0 && LEVEL[cell[base * 2]!] === LEVEL[now]) return false;
    if (level === '') return true;
    if (level === 'rg') return 'rx'.includes(now);
    if (level === 'cf') return 'cx'.includes(now);
    return LEVEL[now] === level;
  }

  function cellHtml(d: Dev, j: number): string {
    const check = checkIds[j]!;
    const lab = narrow.matches ? ` data-c="${esc(check)}"` : '';
    const fam = ` f${famOf[j]}`;
    if (!d.codes)
      return `<td class="v v-untested${fam}${level === 'untested' && base < 0 ? ' hit' : ''}"${lab}><span tabindex="-1"><b>untested</b></span></td>`;
    const cell = d.codes[j]!;
    const now = codeAt(cell, kernel);
    const state = LEVEL[now[0]!]!;
    const rg = 'rx'.includes(now[0]!);
    const cf = 'cx'.includes(now[0]!);
    let cls = `v v-${state}${fam}${rg ? ' rg' : ''}${cf ? ' cf' : ''}`;
    let html = `<b>${WORD[state]}</b>${rg ? MARK_RG : ''}${cf ? MARK_CF : ''}${VERDICT[now[1]!] ? `<small>${VERDICT[now[1]!]}</small>` : ''}`;
    if (base >= 0) {
      const then = LEVEL[cell[base * 2]!]!;
      const changed = then !== state;
      cls += changed ? ' chg' : ' same';
      if (changed) html = `<small>${WORD[then]} →</small>${html}`;
    }
    if ((level !== '' || base >= 0) && hits(d, j)) cls += ' hit';
    // A cell that never ran has no page; one that ran links to it, whatever kernel is shown.
    const ran = /[^.]/.test(cell);
    const inner = ran ? `<a href="c/${esc(d.slug)}.html#${esc(check)}" tabindex="-1">${html}</a>` : `<span tabindex="-1">${html}</span>`;
    return `<td class="${cls}"${lab}>${inner}</td>`;
  }

  function rowHtml(d: Dev): string {
    const cells = visCols.map((j) => cellHtml(d, j)).join('');
    const pick = `<input type="checkbox" class="pick" value="${esc(d.slug)}" aria-label="compare ${esc(d.desc)}" tabindex="-1"${picked.has(d.slug) ? ' checked' : ''}>`;
    return `<tr data-slug="${esc(d.slug)}"${d.untested ? ' class="untested"' : ''}><th scope="row">${pick}<a href="d/${esc(d.slug)}.html" tabindex="-1">${esc(d.desc)}</a><small>${esc(d.sub)}</small></th><td class="drv">${esc(d.driver)}</td>${cells}</tr>`;
  }

  /** Builds rows up to `upTo` (exclusive) of the visible rows. */
  function renderTo(upTo: number): void {
    const end = Math.min(upTo, visRows.length);
    if (end <= rendered) return;
    let html = '';
    for (const d of visRows.slice(rendered, end)) html += rowHtml(d);
    tbody.insertAdjacentHTML('beforeend', html);
    rendered = end;
    markPos();
  }

  // A row's and the header's height, measured after the first paint (reading them while building would force a layout).
  let rowH = 36;
  let headH = 150;
  /** Rows a screenful of the grid shows (the grid is at most 80% of the window high, its header on top), plus one. */
  function screenRows(): number {
    const view = narrow.matches ? innerHeight : innerHeight * 0.8 - headH;
    return Math.ceil(Math.max(view, rowH) / rowH) + 1;
  }

  // Rows are built as they come into view: a filter change then costs one screenful, never the whole grid.
  function more(): void {
    if (rendered >= visRows.length) return;
    const scroller = narrow.matches ? document.scrollingElement! : grid;
    const left = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (left < scroller.clientHeight) {
      renderTo(rendered + screenRows());
      afterPaint(more);
    }
  }
  /** Runs `f` after the next frame is painted (at once in a hidden tab, which paints nothing). */
  function afterPaint(f: () => void): void {
    if (document.hidden) setTimeout(f, 0);
    else requestAnimationFrame(() => setTimeout(f, 0));
  }
  let pending = false;
  // Whether the grid is scrolled, noted as it scrolls (reading it in a filter change would force a layout).
  let atTop = true;
  grid.addEventListener('scroll', () => (atTop = grid.scrollTop === 0), { passive: true });
  const onScroll = (): void => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      more();
    });
  };
  grid.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('scroll', onScroll, { passive: true });

  // What the grid was last built from: a change that leaves it the same (more letters of a name) rebuilds nothing.
  let built = '';
  function render(force = false): void {
    const view = `${kernel} ${base} ${level} ${narrow.matches} ${[...picked].join(',')} ${visCols.join(',')} ${visRows.map((d) => d.slug).join(' ')}`;
    if (view === built && !force) return;
    built = view;
    // A new view starts at its top.
    if (!narrow.matches && !atTop) {
      grid.scrollTop = 0;
      atTop = true;
    }
    tbody.textContent = '';
    rendered = 0;
    renderTo(Math.max(screenRows(), pos.r + 1));
    // Until the grid can scroll, nothing would ask for more rows.
    afterPaint(more);
  }

  /** Search terms: PCI ids found in the text (an `lspci -nn` line has them in brackets), else its words. */
  function terms(text: string): { pci: string[]; words: string[] } {
    const pci = [...text.matchAll(/\[?\b([0-9a-f]{4}:[0-9a-f]{4})\b\]?/g)].map((m) => m[1]!);
    if (pci.length > 0 && /\[[0-9a-f]{4}:[0-9a-f]{4}\]/.test(text)) return { pci, words: [] };
    return { pci: [], words: text.split(/\s+/).filter(Boolean) };
  }

  function sortOrder(): void {
    const by = sel.sort.value;
    order = devs.slice();
    if (by === 'driver') order.sort((a, b) => a.driver.localeCompare(b.driver));
    else if (by === 'findings') order.sort((a, b) => b.n - a.n);
  }

  function apply(): void {
    kernel = data!.kernels.indexOf(sel.kernel.value);
    base = data!.kernels.indexOf(sel.base.value);
    level = sel.level.value;
    sortOrder();
    const { pci, words: ws } = terms(q.value.trim().toLowerCase());
    // A word names devices when some row has it, else checks when some check has it.
    const rowWords = ws.filter((w) => devs.some((d) => d.t.includes(w)));
    const colWords = ws.filter((w) => !rowWords.includes(w) && checks.some((c) => c.includes(w)));
    const unmatched = ws.length - rowWords.length - colWords.length > 0;
    const fam = sel.family.selectedIndex - 1;
    let cols = checks
      .map((_, j) => j)
      .filter((j) => (fam < 0 || famOf[j] === fam) && colWords.every((w) => checks[j]!.includes(w)) && !unmatched);
    const byCells = level !== '' || base >= 0;
    const at = visRows[pos.r];
    table.classList.toggle('vf', byCells);
    visRows = order.filter(
      (d) =>
        !unmatched &&
        (compared.length === 0 || compared.includes(d.slug)) &&
        (sel.driver.value === '' || d.driver === sel.driver.value) &&
        rowWords.every((w) => d.t.includes(w)) &&
        (pci.length === 0 || pci.some((p) => d.pci.startsWith(p))) &&
        (!byCells || cols.some((j) => hits(d, j))),
    );
    if (differ.checked && visRows.length > 1) {
      cols = cols.filter((j) => {
        const first = stateOf(visRows[0]!, j);
        return visRows.some((d) => stateOf(d, j) !== first);
      });
    }
    visCols = cols;
    const shown = new Set(visCols);
    // Only what changes is touched: each write invalidates the header's style.
    checkThs.forEach((th, j) => {
      if (th.hidden === shown.has(j)) th.hidden = !shown.has(j);
    });
    famThs.forEach((th, f) => {
      const n = visCols.filter((j) => famOf[j] === f).length;
      if (th.hidden !== (n === 0)) th.hidden = n === 0;
      if (th.colSpan !== Math.max(n, 1)) th.colSpan = Math.max(n, 1);
    });
    compareOff.hidden = compared.length === 0;
    $<HTMLOutputElement>('shown').value =
      `${visRows.length} of ${devs.length} devices, ${visCols.length} of ${checks.length} checks` +
      (compared.length ? ` (comparing ${compared.length})` : '') +
      (base >= 0 ? ` (changes since ${sel.base.value})` : '');
    $<HTMLElement>('empty').hidden = visRows.length > 0 && visCols.length > 0;
    // The cursor stays on its cell while that stays in view, else it goes back to the first device.
    const r = at ? visRows.indexOf(at) : -1;
    pos = r < 0 || (pos.c >= 0 && !shown.has(pos.c)) ? { r: 0, c: -1 } : { r, c: pos.c };
    render();
  }

  const PARAMS = ['q', 'driver', 'family', 'kernel', 'base', 'level', 'sort'] as const;
  function control(p: (typeof PARAMS)[number]): HTMLInputElement | HTMLSelectElement {
    return p === 'q' ? q : sel[p];
  }
  // The address follows the view after the frame that shows it (a history entry costs more than the grid's
  // first screen); each change is queued as it is made, so quick successive choices keep one entry each.
  const urls: { push: boolean; url: string }[] = [];
  function toUrl(push: boolean): void {
    const u = new URLSearchParams();
    for (const p of PARAMS) if (control(p).value) u.set(p, control(p).value);
    if (compared.length) u.set('compare', compared.join(','));
    if (differ.checked) u.set('differ', '1');
    const search = u.toString() ? `?${u.toString()}` : '';
    const last = urls[urls.length - 1];
    if (search === (last ? last.url : location.search)) return;
    if (last && !push) last.url = search;
    else if (urls.push({ push, url: search }) === 1) afterPaint(writeUrls);
  }
  function writeUrls(): void {
    for (const { push, url } of urls.splice(0)) {
      const next = url || location.pathname.split('/').pop() || 'index.html';
      try {
        if (push) history.pushState(null, '', next);
        else history.replaceState(null, '', next);
      } catch {
        // Some file:// contexts refuse history changes; the view still works.
      }
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
    picked.clear();
    for (const s of compared) picked.add(s);
    updateCompareLabel();
  }

  /** The focusable element of visible row `r`, column `c` (-1: the device link); undefined until built. */
  function cellEl(r: number, c: number): HTMLElement | undefined {
    const row = tbody.rows[r];
    if (!row) return undefined;
    if (c < 0) return row.cells[0]!.querySelector('a') ?? undefined;
    return (row.cells[2 + visCols.indexOf(c)]?.firstElementChild as HTMLElement | null) ?? undefined;
  }
  function markPos(): void {
    const el = cellEl(pos.r, pos.c);
    if (el) el.tabIndex = 0;
  }

  function setPos(r: number, c: number, focus: boolean): void {
    if (r < 0 || r >= visRows.length) return;
    renderTo(r + 1);
    const prev = cellEl(pos.r, pos.c);
    if (prev) prev.tabIndex = -1;
    pos = { r, c };
    const el = cellEl(r, c);
    if (!el) return;
    el.tabIndex = 0;
    if (focus) el.focus();
  }

  table.addEventListener('keydown', (ev) => {
    if ((ev.target as HTMLElement).matches('input.pick')) return;
    const cols = [-1, ...visCols];
    let r = pos.r;
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
    setPos(Math.min(Math.max(r, 0), visRows.length - 1), cols[Math.min(Math.max(ci, 0), cols.length - 1)]!, true);
  });
  table.addEventListener('focusin', (ev) => {
    const target = ev.target as HTMLElement;
    const td = target.closest('td,th') as HTMLTableCellElement | null;
    const row = td?.parentElement as HTMLTableRowElement | null;
    if (!td || !row || row.parentElement !== tbody || td.cellIndex === 1 || target.matches('input.pick')) return;
    setPos(row.sectionRowIndex, td.cellIndex === 0 ? -1 : visCols[td.cellIndex - 2]!, false);
  });
  table.addEventListener('mouseover', (ev) => {
    const td = (ev.target as HTMLElement).closest('td.v') as HTMLTableCellElement | null;
    if (!td || td.title) return;
    const row = td.parentElement as HTMLTableRowElement;
    const state = /\bv-([\w-]+)/.exec(td.className)![1]!;
    const flags = (td.classList.contains('rg') ? ' · regression' : '') + (td.classList.contains('cf') ? ' · claimed but broken' : '');
    td.title = `${checkIds[visCols[td.cellIndex - 2]!]} · ${row.cells[0]!.querySelector('a')!.textContent}: ${WORD[state] ?? state}${flags}`;
  });
  function updateCompareLabel(): void {
    compareBtn.textContent = picked.size ? `Compare checked (${picked.size})` : 'Compare checked';
  }
  table.addEventListener('change', (ev) => {
    const box = ev.target as HTMLInputElement;
    if (!box.matches('input.pick')) return;
    if (box.checked) picked.add(box.value);
    else picked.delete(box.value);
    updateCompareLabel();
  });
  compareBtn.addEventListener('click', () => {
    const chosen = order.filter((d) => picked.has(d.slug)).map((d) => d.slug);
    if (chosen.length < 2) {
      $<HTMLOutputElement>('shown').value = 'Check 2 to 4 devices to compare them.';
      return;
    }
    compared = chosen.slice(0, 4);
    differ.checked = true;
    apply();
    toUrl(true);
  });
  compareOff.addEventListener('click', () => {
    compared = [];
    differ.checked = false;
    picked.clear();
    updateCompareLabel();
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
  // Phones get one card per device: each cell then names its check itself (built only there, to keep the grid small).
  narrow.addEventListener('change', () => render(true));
  grid.hidden = false;
  fromUrl();
  apply();
  afterPaint(() => {
    rowH = tbody.rows[0]?.offsetHeight || rowH;
    headH = table.tHead!.offsetHeight;
  });
  document.documentElement.dataset.ready = '1';
  // For the benchmark: when the page became interactive, and what the script's own setup cost.
  Object.assign(window, { __nicmatrixReady: performance.now(), __nicmatrixInitMs: performance.now() - started });
}

/** The script file's text. */
export function matrixScript(): string {
  return `'use strict';\n(${matrixClient.toString()})();\n`;
}
