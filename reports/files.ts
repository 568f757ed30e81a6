/** The one I/O edge of reports: writing a rendered file set under a directory. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Files } from './types.js';

/** Writes every file under `dir`, creating directories; returns how many bytes were written. */
export function writeFiles(dir: string, files: Files): number {
  let bytes = 0;
  const made = new Set<string>();
  for (const [path, content] of files) {
    const full = join(dir, path);
    const parent = dirname(full);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFileSync(full, content);
    bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  }
  return bytes;
}

/** Writes files as an iterable yields them, so each can be dropped once written; returns how many files and bytes. */
export function writeFileStream(dir: string, files: Iterable<[string, string | Uint8Array]>): { files: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  const made = new Set<string>();
  for (const [path, content] of files) {
    const full = join(dir, path);
    const parent = dirname(full);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFileSync(full, content);
    count++;
    bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  }
  return { files: count, bytes };
}
