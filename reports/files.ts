/** The one I/O edge of reports: writing a rendered file set under a directory. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Files } from './types.js';

/** mkdir -p of a file's directory, once per directory. */
function parentMaker(): (file: string) => void {
  const made = new Set<string>();
  return (file) => {
    const parent = dirname(file);
    if (made.has(parent)) return;
    mkdirSync(parent, { recursive: true });
    made.add(parent);
  };
}

/** Writes every file under `dir`, creating directories; returns how many bytes were written. */
export function writeFiles(dir: string, files: Files): number {
  let bytes = 0;
  const makeParent = parentMaker();
  for (const [path, content] of files) {
    const full = join(dir, path);
    makeParent(full);
    writeFileSync(full, content);
    bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  }
  return bytes;
}

/** Bytes being written at once at most: the next page waits for earlier ones beyond this. */
const IN_FLIGHT_BYTES = 64 * 2 ** 20;

/**
 * Writes files as an iterable yields them, each dropped once written. The writes run on libuv's
 * threads while the next pages render (two cores do two things); returns how many files and bytes.
 */
export async function writeFileStream(
  dir: string,
  files: Iterable<[string, string | Uint8Array]>,
): Promise<{ files: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const makeParent = parentMaker();
  const pending: { done: Promise<void>; size: number }[] = [];
  let inFlight = 0;
  let failed: unknown;
  try {
    for (const [path, content] of files) {
      const full = join(dir, path);
      makeParent(full);
      const data = typeof content === 'string' ? Buffer.from(content) : content;
      const done = writeFile(full, data).catch((e: unknown) => {
        failed ??= e;
      });
      pending.push({ done, size: data.byteLength });
      inFlight += data.byteLength;
      while (inFlight > IN_FLIGHT_BYTES) {
        const first = pending.shift()!;
        await first.done;
        inFlight -= first.size;
      }
      if (failed !== undefined) break;
      count++;
      bytes += data.byteLength;
    }
  } finally {
    // Also when rendering threw: the caller may remove the directory only once nothing writes into it.
    await Promise.all(pending.map((p) => p.done));
  }
  if (failed !== undefined) throw failed;
  return { files: count, bytes };
}
