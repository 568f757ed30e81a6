/** `nicmatrix site`: build the static compatibility website from the store. */
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileStream } from '../../../reports/files.js';
import { siteFiles } from '../../../reports/site/index.js';
import { NicmatrixError } from '../../codec/errors.js';
import { defineCommand } from './command.js';
import { loadStore, STORE_HELP } from './shared.js';

export const DEFAULT_SITE_DIR = 'out/site';
/** Marks a directory as ours, so a rebuild may empty it and nothing else is ever deleted. */
const MARKER = '.nicmatrix-site';
/** Where a build is written before it replaces the previous one (a failed build leaves the old site whole). */
const NEXT = '.nicmatrix-next';

/** Refuses a directory with content that is not an earlier build of ours. */
export function checkSiteDir(dir: string): void {
  if (!existsSync(dir) || readdirSync(dir).every((e) => e === NEXT) || existsSync(join(dir, MARKER))) return;
  throw new NicmatrixError(
    'USAGE',
    `--out ${dir}: exists, is not empty and holds no earlier nicmatrix site (no ${MARKER}); choose another directory`,
  );
}

/** Replaces the previous build in `dir` by the one in `dir/NEXT`. */
function swapIn(dir: string): void {
  const next = join(dir, NEXT);
  for (const entry of readdirSync(dir)) if (entry !== NEXT) rmSync(join(dir, entry), { recursive: true, force: true });
  for (const entry of readdirSync(next)) renameSync(join(next, entry), join(dir, entry));
  rmSync(next, { recursive: true, force: true });
  writeFileSync(join(dir, MARKER), 'built by nicmatrix site; the next build empties this directory\n');
}

export const command = defineCommand({
  usage: [
    'usage: nicmatrix site [--store PATH] [--out DIR]',
    '',
    'Builds a static website (no server code; works from file:// or any static host): the matrix,',
    'a page per device and one with every cell of it (history and evidence), regressions, downloads as JSON and CSV.',
    '',
    STORE_HELP,
    `  --out DIR       output directory (default: ${DEFAULT_SITE_DIR}); an earlier build there is replaced`,
  ].join('\n'),
  options: { store: { type: 'string' }, out: { type: 'string' } },
  async run({ values }, io) {
    const dir = resolve(values.out ?? DEFAULT_SITE_DIR);
    const started = performance.now();
    checkSiteDir(dir);
    const input = loadStore(values.store, { artifacts: true });
    const next = join(dir, NEXT);
    rmSync(next, { recursive: true, force: true });
    let written: { files: number; bytes: number };
    try {
      // Each page is written as soon as it is rendered: the whole site never sits in memory.
      written = await writeFileStream(next, siteFiles(input));
    } catch (e) {
      rmSync(next, { recursive: true, force: true });
      throw e;
    }
    swapIn(dir);
    const m = input.matrix;
    io.err(
      `site: ${m.devices.length} devices, ${m.checks.length} checks, ${m.kernels.length} kernels from ${input.runs.length} runs; ${written.files} files, ${(written.bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    io.out(join(dir, 'index.html'));
    return 0;
  },
});
