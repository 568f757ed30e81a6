/** `nicmatrix report`: JUnit, Markdown or JSON from a run record or the store. Also the store helpers `ingest` and `site` share. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { aggregate } from '../../../matrix/aggregate.js';
import { MatrixError } from '../../../matrix/errors.js';
import { parseRecord } from '../../../matrix/migrate.js';
import { DEFAULT_STORE_PATH, MatrixStore, resolveStorePath } from '../../../matrix/store.js';
import { REPORTERS } from '../../../reports/index.js';
import type { ReportInput } from '../../../reports/types.js';
import { NicmatrixError } from '../../errors.js';
import type { Command } from '../command.js';

/** The usage line of `--store`, the same in every command. */
export const STORE_HELP = `  --store PATH    matrix store (SQLite; default: ${DEFAULT_STORE_PATH} under the current directory)`;

/** Runs `fn`, turning the matrix's own errors into `NicmatrixError` with the same code. */
export function withMatrixErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MatrixError) throw new NicmatrixError(e.code, e.message, { cause: e, details: e.details });
    throw e;
  }
}

/** Every run in an existing store, with its pcaps, aggregated. */
export function loadStore(storeOption: unknown, opts: { latest?: boolean; artifacts?: boolean } = {}): ReportInput {
  const path = resolveStorePath(storeOption as string | undefined);
  return withMatrixErrors(() => {
    const store = MatrixStore.open(path, { create: false });
    try {
      let runs = store.records();
      if (opts.latest) runs = runs.slice(-1);
      const artifacts = opts.artifacts ? [...store.artifacts()] : [];
      return { runs, matrix: aggregate(runs), generatedAt: new Date().toISOString(), source: path, artifacts };
    } finally {
      store.close();
    }
  });
}

function loadRun(file: string): ReportInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new NicmatrixError('USAGE', `--run ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  const run = withMatrixErrors(() => parseRecord(text, file));
  return { runs: [run], matrix: aggregate([run]), generatedAt: new Date().toISOString(), source: file };
}

export const command: Command = {
  name: 'report',
  summary: 'JUnit, Markdown or JSON reports from the store or a run record',
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
    const format = values.format as string | undefined;
    const reporter = format === undefined ? undefined : REPORTERS[format];
    if (!reporter)
      throw new NicmatrixError(
        'USAGE',
        `--format: expected one of ${Object.keys(REPORTERS).join(', ')}, found ${format === undefined ? 'nothing' : `"${format}"`}`,
      );
    if (values.run !== undefined && values.store !== undefined)
      throw new NicmatrixError('USAGE', '--run and --store: give one source, not both');
    const input = values.run !== undefined ? loadRun(values.run as string) : loadStore(values.store, { latest: Boolean(values.latest) });
    const text = reporter.render(input);
    if (typeof text !== 'string')
      throw new NicmatrixError('INTERNAL', `reporter ${reporter.format} renders several files; use nicmatrix site`);
    const out = values.out as string | undefined;
    if (out === undefined) {
      io.out(text.replace(/\n$/, ''));
    } else {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, text);
      io.err(`report: ${reporter.format} of ${input.runs.length} run(s) written to ${out}`);
    }
    return 0;
  },
};
