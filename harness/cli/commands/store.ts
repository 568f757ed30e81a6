/** `nicmatrix store verify|rebuild|flaky`: find damage in the matrix store, rebuild it from the records it keeps, list flaky verdicts. */
import { existsSync } from 'node:fs';
import { rebuildStore, storeIsSound, verifyStore } from '../../../matrix/store-repair.js';
import { keptRecordsDir, MatrixStore, resolveStorePath } from '../../../matrix/store.js';
import { NicmatrixError } from '../../codec/errors.js';
import { defineCommand } from './command.js';
import { STORE_HELP } from './shared.js';

/** How many problems of one kind are listed before "and N more". */
const MAX_LISTED = 20;

function listed<T>(items: T[], line: (item: T) => string, out: (l: string) => void): void {
  for (const item of items.slice(0, MAX_LISTED)) out(line(item));
  if (items.length > MAX_LISTED) out(`  … and ${items.length - MAX_LISTED} more`);
}

export const command = defineCommand({
  usage: [
    'usage: nicmatrix store verify|rebuild|flaky [--store PATH]',
    '',
    "  verify          SQLite's integrity check, then every stored record against the run record schema and its hash;",
    '                  also says which runs have no kept copy beside the store. Changes nothing.',
    '  rebuild         moves the store file aside (never deletes it) and re-ingests every run record kept in',
    '                  PATH.records/ plus every run still readable in the old file, so no verdict is lost.',
    '  flaky           lists every verdict whose attempts disagreed (run --repeat / --retry-failed), newest first.',
    STORE_HELP,
    '',
    'Exit status: verify 0 when the store is sound, 2 when it is damaged; rebuild 0 when every record was stored, 2 otherwise.',
  ].join('\n'),
  options: { store: { type: 'string' } },
  positionals: true,
  async run({ values, positionals }, io) {
    const [action, ...extra] = positionals;
    if ((action !== 'verify' && action !== 'rebuild' && action !== 'flaky') || extra.length > 0)
      throw new NicmatrixError(
        'USAGE',
        `store: expected verify, rebuild or flaky, found ${positionals.length ? `"${positionals.join(' ')}"` : 'nothing'}`,
      );
    const path = resolveStorePath(values.store);
    if (action === 'flaky') {
      const store = MatrixStore.open(path, { create: false });
      try {
        const rows = store.flakyResults();
        for (const r of rows)
          io.out(
            `${r.finishedAt}  ${r.device}  ${r.kernel}  ${r.checkId} [${r.variant}]  ${r.passes} of ${r.attempts} attempts passed  run ${r.runId}`,
          );
        io.err(`store: ${rows.length} flaky verdict(s) in ${path}`);
      } finally {
        store.close();
      }
      return 0;
    }
    if (action === 'verify') {
      if (!existsSync(path) && !existsSync(keptRecordsDir(path)))
        throw new NicmatrixError(
          'STORE',
          `no matrix store at ${path}: ingest run records first (nicmatrix ingest FILE… or nicmatrix run)`,
          {
            details: { path },
          },
        );
      const v = verifyStore(path);
      listed(v.integrity, (l) => `store: integrity: ${l}`, io.err);
      listed(v.badRuns, (b) => `store: run ${b.id}: ${b.problem}`, io.err);
      listed(v.badKept, (b) => `store: kept record ${b.file}: ${b.problem}`, io.err);
      if (v.unkept.length > 0)
        io.err(
          `store: ${v.unkept.length} run(s) have no kept copy in ${keptRecordsDir(path)}; \`nicmatrix store rebuild\` keeps them while the file is readable`,
        );
      const sound = storeIsSound(v);
      io.out(`${sound ? 'sound' : 'damaged'}: ${path}: ${v.runs} run(s) stored, ${v.kept} kept beside it`);
      if (!sound) io.err(`store: rebuild it from the kept records: nicmatrix store rebuild --store ${path}`);
      return sound ? 0 : 2;
    }
    const r = rebuildStore(path);
    for (const n of r.notes) io.err(`store: ${n}`);
    listed(r.refused, (x) => `store: refused ${x.source}: ${x.problem}`, io.err);
    if (r.movedTo) io.err(`store: the old file is kept at ${r.movedTo}`);
    io.out(
      `rebuilt: ${path}: ${r.stored} run(s) stored (${r.fromKept} from kept records, ${r.fromFile} more still readable in the old file), ${r.refused.length} refused`,
    );
    return r.refused.length > 0 ? 2 : 0;
  },
});
