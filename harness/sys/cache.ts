/**
 * The harness's cache directory: `$NICMATRIX_CACHE`, else
 * `${XDG_CACHE_HOME:-~/.cache}/nicmatrix`. It holds `kernels/` (unpacked
 * Debian kernel packages), `images/` (initramfs and vmlinux files whose
 * names carry the hash of their inputs) and `native-agent/` (agents built for
 * other architectures). Deleting it is always safe.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cleanup } from './cleanup.js';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NICMATRIX_CACHE) return path.resolve(env.NICMATRIX_CACHE);
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(xdg, 'nicmatrix');
}

export async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Writes `file` through a temporary sibling and a rename, so readers (other runs) never see half a file. */
export async function writeAtomic(file: string, data: Buffer | string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const teardown = cleanup.register(`temporary ${tmp}`, () => fs.rm(tmp, { force: true }));
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } finally {
    await teardown.run();
  }
}

/**
 * A scratch directory next to `target` (same filesystem, so a finished tree
 * can be renamed into place), removed by the returned teardown unless renamed.
 */
export async function scratchDir(target: string): Promise<{ dir: string; done(): Promise<void> }> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const dir = `${target}.tmp-${process.pid}-${Date.now()}`;
  const teardown = cleanup.register(`scratch ${dir}`, () => fs.rm(dir, { recursive: true, force: true }));
  await fs.mkdir(dir, { recursive: true });
  return { dir, done: () => teardown.run() };
}

/**
 * Marks a finished scratch tree complete (`what` in its marker) and renames it to `dir`; when another run finished
 * `dir` first, theirs is as good as ours and stays.
 */
export async function publishDir(scratch: string, dir: string, what: string): Promise<void> {
  await fs.writeFile(path.join(scratch, '.complete'), `${what}\n`);
  await fs.rename(scratch, dir).catch(async (e: unknown) => {
    if (!(await exists(path.join(dir, '.complete')))) throw e;
  });
}
