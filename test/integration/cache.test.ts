/** The cache's finished trees: a scratch tree published under its marker, a second finisher of the same tree giving way. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { publishDir, scratchDir } from '../../harness/sys/cache.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nicmatrix-cache-test-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function finished(dir: string, content: string, what: string): Promise<void> {
  const scratch = await scratchDir(dir);
  try {
    fs.writeFileSync(path.join(scratch.dir, 'data'), content);
    await publishDir(scratch.dir, dir, what);
  } finally {
    await scratch.done();
  }
}

describe('cache trees', () => {
  it('publishes a scratch tree under its marker; a later finisher of the same tree leaves the first in place', async () => {
    const dir = path.join(root, 'kernels', 'k1');
    await finished(dir, 'first', 'pkg 1.0');
    expect(fs.readFileSync(path.join(dir, '.complete'), 'utf8')).toBe('pkg 1.0\n');
    await finished(dir, 'second', 'pkg 1.0');
    expect(fs.readFileSync(path.join(dir, 'data'), 'utf8')).toBe('first');
    // Nothing of the second attempt is left next to it.
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['k1']);
  });
});
