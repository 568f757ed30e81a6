/** An Atom feed of regressions, newest first, one entry per regressed cell. Pure. */
import type { Matrix } from '../../matrix/aggregate.js';
import { xmlEscape } from '../text.js';
import { firstRegressedKernel } from './attention-page.js';
import { paths } from './html.js';

export function regressionsFeed(m: Matrix, generatedAt: string): string {
  const entries = m.devices
    .flatMap((d) =>
      Object.values(m.cells[d.key] ?? {})
        .filter((c) => c.regressed)
        .map((c) => {
          const at = c.perKernel[c.perKernel.length - 1]?.finishedAt ?? generatedAt;
          const first = firstRegressedKernel(c) ?? c.kernel;
          return { d, c, at, first };
        }),
    )
    .sort((a, b) => b.at.localeCompare(a.at));
  const items = entries
    .map(
      ({ d, c, at, first }) => `<entry><id>urn:nicmatrix:regression:${xmlEscape(d.slug)}:${xmlEscape(c.check)}:${xmlEscape(first)}</id>
<title>${xmlEscape(`${c.check} broken on ${d.description} (${d.driver}) since ${first}`)}</title>
<updated>${xmlEscape(at)}</updated>
<link href="${xmlEscape(paths.cell(d, c.check))}"/>
<summary>${xmlEscape(c.note)}</summary></entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:nicmatrix:regressions</id><title>nicmatrix: new regressions</title>
<updated>${xmlEscape(entries[0]?.at ?? generatedAt)}</updated><author><name>nicmatrix</name></author>
${items}
</feed>
`;
}
