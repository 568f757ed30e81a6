/**
 * Agent actions zc.probe / zc.fileCreate / zc.fileRemove: the files the DUT
 * sends with sendfile, written with the zc pattern in the DUT's own temporary
 * directory (a tmpfs inside a QEMU guest), removed when the agent exits.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dataExtents, type FileLayout, fillFile } from '../../codec/zc/pattern.js';
import { NicmatrixError } from '../../codec/errors.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Where the DUT keeps zc files and how much memory it has for them. */
    'zc.probe': { params: Record<string, never>; result: { tmpdir: string; memAvailableBytes: number } };
    /** Writes a pattern file (holes left unwritten: sparse); the agent removes it on exit. */
    'zc.fileCreate': { params: { layout: FileLayout }; result: { id: string; path: string; allocatedBytes: number } };
    'zc.fileRemove': { params: { id: string }; result: { removed: boolean } };
  }
}

/** A zc file as an agent resource: unlinked on close. */
export class ZcFile {
  constructor(
    readonly path: string,
    readonly layout: FileLayout,
  ) {}
  close(): void {
    fs.rmSync(this.path, { force: true });
  }
}

/** The ZcFile behind `id`, or an error naming what was found instead. */
export function zcFile(resources: Map<string, unknown>, id: string, action: string): ZcFile {
  const res = resources.get(id);
  if (!(res instanceof ZcFile))
    throw new NicmatrixError('AGENT', `${action}: expected a zc file "${id}", found ${res ? 'another kind of resource' : 'none'}`);
  return res;
}

/** MemAvailable of /proc/meminfo in bytes (free memory when the line is missing). */
function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : os.freemem();
}

const CHUNK = 1 << 20;

defineAction('zc.probe', async () => ({ tmpdir: os.tmpdir(), memAvailableBytes: memAvailable() }));

defineAction('zc.fileCreate', async ({ layout }, ctx) => {
  if (!Number.isSafeInteger(layout.size) || layout.size < 0)
    throw new NicmatrixError('USAGE', `zc.fileCreate: expected a size ≥ 0, found ${layout.size}`);
  const id = ctx.newId('zc-file');
  const file = new ZcFile(path.join(os.tmpdir(), `nicmatrix-${process.pid}-${id}.bin`), layout);
  ctx.resources.set(id, file);
  const fd = fs.openSync(file.path, 'w', 0o600);
  try {
    fs.ftruncateSync(fd, layout.size);
    const buf = Buffer.alloc(CHUNK);
    for (const [start, end] of dataExtents(layout)) {
      for (let pos = start; pos < end; pos += CHUNK) {
        const n = Math.min(CHUNK, end - pos);
        fillFile(buf.subarray(0, n), layout, pos);
        fs.writeSync(fd, buf, 0, n, pos);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return { id, path: file.path, allocatedBytes: fs.statSync(file.path).blocks * 512 };
});

defineAction('zc.fileRemove', async ({ id }, ctx) => {
  zcFile(ctx.resources, id, 'zc.fileRemove').close();
  ctx.resources.delete(id);
  return { removed: true };
});
