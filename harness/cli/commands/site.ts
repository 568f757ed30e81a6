/** `nicmatrix site`: build the static compatibility website from the store. */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFiles } from '../../../reports/files.js';
import { siteReporter } from '../../../reports/site/index.js';
import { NicmatrixError } from '../../errors.js';
import type { Command } from '../command.js';
import { loadStore, STORE_HELP } from '../shared.js';

export const DEFAULT_SITE_DIR = 'out/site';
/** Marks a directory as ours, so a rebuild may empty it and nothing else is ever deleted. */
const MARKER = '.nicmatrix-site';

/** Empties a previous build in `dir`; refuses a directory with other content. */
export function prepareSiteDir(dir: string): void {
  if (!existsSync(dir) || readdirSync(dir).length === 0) return;
  if (!existsSync(join(dir, MARKER))) {
    throw new NicmatrixError(
      'USAGE',
      `--out ${dir}: exists, is not empty and holds no earlier nicmatrix site (no ${MARKER}); choose another directory`,
    );
  }
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

export const command: Command = {
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
    const dir = resolve((values.out as string | undefined) ?? DEFAULT_SITE_DIR);
    const started = performance.now();
    const input = loadStore(values.store, { artifacts: true });
    const files = siteReporter.render(input);
    prepareSiteDir(dir);
    const bytes = writeFiles(dir, files);
    writeFileSync(join(dir, MARKER), 'built by nicmatrix site; the next build empties this directory\n');
    const m = input.matrix;
    io.err(
      `site: ${m.devices.length} devices, ${m.checks.length} checks, ${m.kernels.length} kernels from ${input.runs.length} runs; ${files.size} files, ${(bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    io.out(join(dir, 'index.html'));
    return 0;
  },
};
