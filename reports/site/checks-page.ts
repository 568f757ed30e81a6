/** The checks page: every family and check in reading order, what it sends, what a pass proves, its ethtool features. Pure. */
import type { Matrix } from '../../matrix/aggregate.js';
import type { DefinitionIndex } from '../../matrix/definitions.js';
import { esc, page } from './html.js';
import { legendHtml } from './matrix-page.js';

export function checksPage(m: Matrix, defs: DefinitionIndex, extra: readonly string[], generatedAt: string): string {
  // Checks this build defines but nobody ran yet are described too.
  const all = [...new Set([...m.checks, ...extra])];
  const families = [...new Set(m.families.map((f) => f.name).concat(all.map((c) => defs.check(c).family)))];
  const sections = families.map((name) => {
    const f = defs.family(name);
    const items = all
      .filter((c) => defs.check(c).family === name)
      .map((c) => {
        const d = defs.check(c);
        const ran = m.checks.includes(c) ? '' : ' <small>(no results yet)</small>';
        return `<dt id="${esc(c)}"><code>${esc(c)}</code> — ${esc(d.title)}${ran}</dt><dd>${esc(d.definition)} <b>A pass proves:</b> ${esc(d.proves)}${d.features.length ? ` <b>ethtool features:</b> ${d.features.map((x) => `<code>${esc(x)}</code>`).join(', ')}.` : ' <b>ethtool features:</b> none (the kernel’s own work).'}</dd>`;
      })
      .join('');
    return `<section aria-labelledby="${esc(name)}"><h2 id="${esc(name)}">${esc(f.title)} <small><code>${esc(name)}/*</code></small></h2><p>${esc(f.definition)}</p><dl class="defs">${items}</dl></section>`;
  });
  const body = `<h1>What each check means</h1>
<p>Columns of the matrix, family by family, in the order the matrix shows them. Each cell rolls the check's variants (offload on, off, …) up into one support level:</p>
${legendHtml()}
${sections.join('\n')}`;
  return page({ title: 'Checks', root: '', body, generatedAt });
}
