/**
 * A writer of cpio "newc" archives (the initramfs format the Linux kernel
 * unpacks; see the kernel's Documentation/driver-api/early-userspace/buffer-format.rst).
 * Pure: entries in, bytes out. Timestamps and owners are fixed, so the same
 * entries always give the same bytes (the image cache keys on its inputs).
 */

import { NicmatrixError } from '../../matrix/errors.js';

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Buffer; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; major: number; minor: number; mode?: number };

const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';

/** Normalises an archive path: no leading `/` or `./`, no empty or `..` parts. */
export function cpioPath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0 || parts.includes('..'))
    throw new NicmatrixError('GUEST', `cpio: expected a relative path inside the archive, found "${p}"`);
  return parts.join('/');
}

/**
 * Builds the archive. Parent directories that no entry names are added first
 * (the kernel's unpacker does not create them); a path named twice is an error.
 */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  const seen = new Set<string>();
  const dirs = new Set<string>();
  let ino = 1;
  const emit = (name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]) => {
    const nameBuf = Buffer.from(name + '\0');
    const fields = [ino++, mode, 0, 0, (mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
    const header = MAGIC + fields.map((f) => f.toString(16).padStart(8, '0')).join('');
    chunks.push(Buffer.from(header, 'ascii'), nameBuf, pad(header.length + nameBuf.length), data, pad(data.length));
  };
  const ensureParents = (p: string) => {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!seen.has(dir)) {
        seen.add(dir);
        dirs.add(dir);
        emit(dir, S_IFDIR | 0o755, Buffer.alloc(0));
      }
    }
  };
  for (const e of entries) {
    const p = cpioPath(e.path);
    // A directory may be named after a file inside it created it: same result.
    if (e.type === 'dir' && dirs.has(p)) continue;
    if (seen.has(p)) throw new NicmatrixError('GUEST', `cpio: "${p}" is named twice (or after a file inside it)`);
    ensureParents(p);
    seen.add(p);
    switch (e.type) {
      case 'dir':
        dirs.add(p);
        emit(p, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0));
        break;
      case 'file':
        emit(p, S_IFREG | (e.mode ?? 0o644), e.data);
        break;
      case 'symlink':
        emit(p, S_IFLNK | 0o777, Buffer.from(e.target));
        break;
      case 'chardev':
        emit(p, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), [e.major, e.minor]);
        break;
    }
  }
  emit(TRAILER, 0, Buffer.alloc(0));
  return Buffer.concat(chunks);
}

/** Zero bytes that bring `len` to a multiple of 4 (newc aligns headers and data). */
function pad(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

/** One parsed entry, for tests and for checking a cached image. */
export interface CpioRecord {
  name: string;
  mode: number;
  data: Buffer;
  rdevMajor: number;
  rdevMinor: number;
}

/** Reads a newc archive back (up to the trailer). */
export function readCpio(buf: Buffer): CpioRecord[] {
  const out: CpioRecord[] = [];
  let off = 0;
  for (;;) {
    if (off + 110 > buf.length) throw new NicmatrixError('GUEST', `cpio: archive ends inside a header at byte ${off}`);
    const magic = buf.toString('ascii', off, off + 6);
    if (magic !== MAGIC) throw new NicmatrixError('GUEST', `cpio: expected magic ${MAGIC} at byte ${off}, found ${JSON.stringify(magic)}`);
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const [mode, filesize, rdevMajor, rdevMinor, namesize] = [field(1), field(6), field(9), field(10), field(11)];
    const nameStart = off + 110;
    const name = buf.toString('utf8', nameStart, nameStart + namesize - 1);
    const dataStart = nameStart + namesize + ((4 - ((110 + namesize) % 4)) % 4);
    if (name === TRAILER) return out;
    out.push({ name, mode, data: buf.subarray(dataStart, dataStart + filesize), rdevMajor, rdevMinor });
    off = dataStart + filesize + ((4 - (filesize % 4)) % 4);
  }
}
