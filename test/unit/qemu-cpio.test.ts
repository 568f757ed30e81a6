import { describe, expect, it } from 'vitest';
import { cpioPath, readCpio, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, writeCpio } from '../../drivers/qemu/cpio.js';

describe('cpio newc writer', () => {
  it('round-trips files, symlinks and device nodes, adding parent directories first', () => {
    const buf = writeCpio([
      { type: 'file', path: '/lib/modules/x/a.ko', data: Buffer.from('abc'), mode: 0o644 },
      { type: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ]);
    const recs = readCpio(buf);
    expect(recs.map((r) => r.name)).toEqual([
      'lib',
      'lib/modules',
      'lib/modules/x',
      'lib/modules/x/a.ko',
      'init',
      'bin',
      'bin/sh',
      'dev',
      'dev/console',
    ]);
    const byName = new Map(recs.map((r) => [r.name, r]));
    expect(byName.get('lib')!.mode).toBe(S_IFDIR | 0o755);
    expect(byName.get('lib/modules/x/a.ko')!.data.toString()).toBe('abc');
    expect(byName.get('init')!.mode).toBe(S_IFREG | 0o755);
    expect(byName.get('bin/sh')!.mode).toBe(S_IFLNK | 0o777);
    expect(byName.get('bin/sh')!.data.toString()).toBe('busybox');
    expect(byName.get('dev/console')).toMatchObject({ mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 });
  });
  it('aligns every header and payload to 4 bytes and ends with the trailer', () => {
    for (const len of [0, 1, 2, 3, 4, 5]) {
      const buf = writeCpio([{ type: 'file', path: 'f'.repeat(len + 1), data: Buffer.alloc(len, 0x61) }]);
      expect(buf.length % 4).toBe(0);
      expect(buf.toString('latin1')).toContain('TRAILER!!!\0');
      expect(readCpio(buf)[0]!.data.length).toBe(len);
    }
  });
  it('is byte-for-byte reproducible (the image cache keys on inputs)', () => {
    const entries = [{ type: 'file' as const, path: 'a/b', data: Buffer.from('x') }];
    expect(writeCpio(entries).equals(writeCpio(entries))).toBe(true);
  });
  it('writes the newc header fields as the kernel reads them', () => {
    const buf = writeCpio([{ type: 'file', path: 'ab', data: Buffer.from('hello') }]);
    const header = buf.toString('latin1', 0, 110);
    expect(header.slice(0, 6)).toBe('070701');
    expect(parseInt(header.slice(6 + 6 * 8, 6 + 7 * 8), 16)).toBe(5); // c_filesize
    expect(parseInt(header.slice(6 + 11 * 8, 6 + 12 * 8), 16)).toBe(3); // c_namesize with NUL
  });
  it('rejects paths that escape the archive and names given twice', () => {
    expect(() => cpioPath('../etc')).toThrow(/relative path inside the archive/);
    expect(() => cpioPath('/')).toThrow(/relative path/);
    expect(cpioPath('./a//b/')).toBe('a/b');
    expect(() =>
      writeCpio([
        { type: 'file', path: 'a', data: Buffer.alloc(0) },
        { type: 'file', path: 'a', data: Buffer.alloc(0) },
      ]),
    ).toThrow(/named twice/);
    // A directory named after a file inside it already created it is fine.
    expect(
      readCpio(
        writeCpio([
          { type: 'file', path: 'd/f', data: Buffer.alloc(0) },
          { type: 'dir', path: 'd' },
        ]),
      ).map((r) => r.name),
    ).toEqual(['d', 'd/f']);
  });
  it('reports a damaged archive with the byte offset', () => {
    const buf = writeCpio([{ type: 'file', path: 'a', data: Buffer.from('x') }]);
    expect(() => readCpio(Buffer.concat([Buffer.from('0707'), buf]))).toThrow(/expected magic 070701 at byte 0/);
  });
});
