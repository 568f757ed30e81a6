/** `nicmatrix report`: JUnit, Markdown or JSON from a run record or the store. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { aggregate } from '../../../matrix/aggregate.js';
import { parseRecord } from '../../../matrix/migrate.js';
import { REPORTERS } from '../../../reports/index.js';
import type { ReportInput } from '../../../reports/types.js';
import { checkDefinitions } from '../../checks/registry.js';
import { NicmatrixError, unreadableFile } from '../../codec/errors.js';
import { defineCommand } from './command.js';
import { loadStore, STORE_HELP } from './shared.js';

function loadRun(file: string): ReportInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw unreadableFile(`--run ${file}`, file, e);
  }
  const run = parseRecord(text, file);
  return { runs: [run], matrix: aggregate([run]), generatedAt: new Date().toISOString(), source: file, definitions: checkDefinitions() };
}

export const command = defineCommand({
  usage: [
    `usage: nicmatrix report --format ${Object.keys(REPORTERS).join('|')} [--run FILE | --store PATH] [--latest] [--out FILE]`,
    '',
    '  --format F      junit: one testcase per target × check × variant; markdown: a CI job summary or PR comment;',
    '                  json: the aggregated matrix (nicmatrix.matrix/1); kcidb: KernelCI KCIDB JSON (schema v5.3)',
    '  --run FILE      report on this run record (validated; older schema versions are migrated)',
    STORE_HELP,
    '  --latest        from the store, only the newest run',
    '  --out FILE      write here instead of standard output',
    '',
    'Exit status: 0 when the report was written (the verdicts are for `nicmatrix run` to judge), 2 on errors.',
  ].join('\n'),
  options: {
    format: { type: 'string' },
    run: { type: 'string' },
    store: { type: 'string' },
    latest: { type: 'boolean' },
    out: { type: 'string' },
  },
  async run({ values }, io) {
    const format = values.format;
    const reporter = format === undefined ? undefined : REPORTERS[format];
    if (!reporter)
      throw new NicmatrixError(
        'USAGE',
        `--format: expected one of ${Object.keys(REPORTERS).join(', ')}, found ${format === undefined ? 'nothing' : `"${format}"`}`,
      );
    if (values.run !== undefined && values.store !== undefined)
      throw new NicmatrixError('USAGE', '--run and --store: give one source, not both');
    const input = values.run !== undefined ? loadRun(values.run) : loadStore(values.store, { latest: Boolean(values.latest) });
    const text = reporter.render(input);
    if (typeof text !== 'string')
      throw new NicmatrixError('INTERNAL', `reporter ${reporter.format} renders several files; use nicmatrix site`);
    const out = values.out;
    if (out === undefined) {
      io.out(text.replace(/\n$/, ''));
    } else {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, text);
      io.err(`report: ${reporter.format} of ${input.runs.length} run(s) written to ${out}`);
    }
    return 0;
  },
});
