/** `nicmatrix checks`: every check with what it sends, what a pass proves and the ethtool features it concerns. */
import { claimFeatures } from '../../../matrix/claims.js';
import { compareFamilies } from '../../../matrix/identity.js';
import { allChecks, allFamilies } from '../../checks/registry.js';
import { NicmatrixError } from '../../codec/errors.js';
import { selectChecks } from '../../run/plan.js';
import { defineCommand } from './command.js';

export const command = defineCommand({
  usage: [
    'usage: nicmatrix checks [GLOB…] [--json]',
    '',
    'Lists the checks (the matrix columns), family by family in the order the matrix shows them: what each',
    'check sends or does, what a pass proves, and the ethtool -k features it concerns.',
    '',
    '  GLOB            only checks or families matching, e.g. tx-csum/* or rx-csum',
    '  --json          one JSON document: {families, checks}',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run({ values, positionals }, io) {
    const { checks, unmatched } = selectChecks(allChecks(), positionals);
    if (unmatched.length > 0)
      throw new NicmatrixError('USAGE', `checks: nothing matches ${unmatched.map((g) => `"${g}"`).join(', ')}; see nicmatrix checks`);
    const families = allFamilies()
      .filter((f) => checks.some((c) => c.family === f.name))
      .sort((a, b) => compareFamilies(a.name, b.name));
    const rows = checks.map(({ id, family, title, definition, proves }) => ({
      id,
      family,
      title,
      definition,
      proves,
      features: claimFeatures(id),
    }));
    if (values.json) {
      io.out(JSON.stringify({ families, checks: rows }, null, 2));
      return 0;
    }
    for (const f of families) {
      io.out(`${f.name}/* — ${f.title}`);
      io.out(`  ${f.definition}`);
      for (const c of rows.filter((x) => x.family === f.name)) {
        io.out(`  ${c.id}`);
        io.out(`      sends:  ${c.definition}`);
        io.out(`      proves: ${c.proves}`);
        io.out(`      ethtool: ${c.features.length ? c.features.join(', ') : 'none (the kernel’s or driver’s own work)'}`);
      }
      io.out('');
    }
    return 0;
  },
});
