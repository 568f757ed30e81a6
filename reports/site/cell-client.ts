/**
 * The script of a device's cells page (`cell-page.ts`), shipped as its source
 * text (`cellScript`): shows the one cell the fragment names (`#tx-csum/ipv4-tcp`),
 * titles the page after it and renders its level-per-kernel and history tables
 * from the page's JSON; no fragment (or an unknown one) shows every cell.
 * Follows fragment changes, so the back button walks cells. No imports.
 */
export function cellClient(): void {
  const data = JSON.parse(document.getElementById('cell-data')!.textContent!) as {
    S: string[];
    R: [string, string][];
    T: { text: Record<string, string>; title: Record<string, string>; status: Record<string, string> };
    C: [string, string][];
  };
  const { S, R, T } = data;
  const esc = (s: string): string =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const title = document.getElementById('title')!;
  const crumb = document.getElementById('crumb')!;
  const dev = document.getElementById('dev')!;
  const sections = Array.from(document.querySelectorAll<HTMLElement>('section.cell'));
  const anchor = document.createComment('cells');
  sections[0]?.before(anchor);
  const allTitle = title.innerHTML;
  const allDocTitle = document.title;

  // cell-page.ts writes this JSON: every number in it is an index it made into S, R or C, and T names every state and status.
  const str = (i: number | undefined): string => S[i!]!;
  const verdict = (s: string): string => `<span class="badge s-${s}" title="${esc(T.status[s]!)}">${esc(s)}</span>`;
  function badge(state: string, regressed: boolean, claimed: boolean): string {
    return (
      `<span class="badge v-${state}" title="${esc(T.title[state]!)}">${esc(T.text[state]!)}</span>` +
      (regressed ? '<span class="flag">▼ regression</span>' : '') +
      (claimed ? '<span class="flag">! claimed but broken</span>' : '')
    );
  }
  const run = (i: number): string => {
    const [id, href] = R[i]!;
    return href ? `<a href="${esc(href)}"><code>${esc(id)}</code></a>` : `<code>${esc(id)}</code>`;
  };

  const rows = (text: string): string[][] => (text ? text.split(';').map((r) => r.split(',')) : []);
  const list = (text: string | undefined): number[] => (text ? text.split('.').map(Number) : []);

  function tablesHtml(i: number): string {
    const [k, h] = data.C[i]!;
    const perKernel = rows(k)
      .map((f) => {
        const r = f.map(Number);
        return `<tr><th scope="row">${esc(str(r[0]))}</th><td>${badge(str(r[1]), r[3] === 1, r[4] === 1)} ${verdict(str(r[2]))}</td><td>${esc(str(r[5]))}</td><td>${['no', 'yes', 'no claim read'][r[6]!]}</td><td>${run(r[7]!)}</td><td>${esc(str(r[8]))}</td></tr>`;
      })
      .join('');
    const history = rows(h)
      .map((f) => {
        const r = f.map(Number);
        const v = list(f[6]);
        const variants: string[] = [];
        for (let j = 0; j < v.length; j += 2) variants.push(`${esc(str(v[j]))}: ${verdict(str(v[j + 1]))}`);
        const level = f[4] === '' ? '' : badge(str(r[4]), false, false);
        const messages = list(f[7])
          .map((m) => esc(str(m)))
          .join('<br>');
        return `<tr><td>${esc(str(r[0]))}</td><td>${esc(str(r[1]))}</td><td>${run(r[2]!)}</td><td><code>${esc(str(r[3]))}</code></td><td>${level} ${verdict(str(r[5]))}</td><td>${variants.join(' ')}</td><td class="msg">${messages}</td></tr>`;
      })
      .join('');
    return `<h3>Level per kernel</h3><table class="list"><thead><tr><th scope="col">kernel</th><th scope="col">level and verdict</th><th scope="col">why</th><th scope="col">claimed</th><th scope="col">run</th><th scope="col">finished</th></tr></thead><tbody>${perKernel}</tbody></table>
<h3>History</h3><table class="list"><thead><tr><th scope="col">finished</th><th scope="col">kernel</th><th scope="col">run</th><th scope="col">target</th><th scope="col">level</th><th scope="col">variants</th><th scope="col">message</th></tr></thead><tbody>${history}</tbody></table>`;
  }

  function show(): void {
    let check = '';
    try {
      check = decodeURIComponent(location.hash.slice(1));
    } catch {
      // A malformed fragment names no cell.
    }
    const one = sections.find((s) => s.id === check);
    let at: Node = anchor;
    for (const s of sections) {
      const keep = !one || s === one;
      if (keep && !s.isConnected) at.parentNode!.insertBefore(s, at.nextSibling);
      else if (!keep && s.isConnected) s.remove();
      if (keep) at = s;
    }
    if (!one) {
      title.innerHTML = allTitle;
      crumb.textContent = 'every check';
      document.title = allDocTitle;
      sections.forEach((s) => s.firstElementChild!.classList.remove('sr'));
      return;
    }
    const tables = one.querySelector<HTMLElement>('.cell-tables')!;
    if (!tables.dataset.done) {
      tables.innerHTML = tablesHtml(Number(one.dataset.i));
      tables.dataset.done = '1';
    }
    // The page heading names the cell; the section's own heading stays for screen readers' outline.
    one.firstElementChild!.classList.add('sr');
    title.innerHTML = `<code>${esc(check)}</code> on ${dev.outerHTML}`;
    crumb.textContent = check;
    document.title = `${check} on ${dev.firstChild!.textContent!.trim()} · nicmatrix`;
  }
  window.addEventListener('hashchange', show);
  show();
  document.documentElement.dataset.ready = '1';
}

/** The script file's text. */
export function cellScript(): string {
  return `'use strict';\n(${cellClient.toString()})();\n`;
}
