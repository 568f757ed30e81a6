/**
 * Reading binaries (pure): an x86 bzImage, so the harness can boot the uncompressed
 * vmlinux through its PVH entry instead: under TCG, decompressing an 8 MB xz
 * kernel costs about 2 s of the boot. Layout: the kernel's
 * Documentation/arch/x86/boot.rst (setup header at 0x1f1, payload_offset at 0x248).
 * And ELF program headers: the PVH note of a vmlinux, the interpreter of busybox.
 */

import { NicmatrixError } from '../../matrix/errors.js';

export type Compression = 'gzip' | 'xz' | 'zstd' | 'lzma' | 'lz4' | 'bzip2' | 'lzo';

export interface BzImagePayload {
  /** Byte offset of the compressed vmlinux in the file. */
  offset: number;
  length: number;
  compression: Compression;
}

const MAGICS: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['lzma', [0x5d, 0x00, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]],
  ['lzo', [0x89, 0x4c, 0x5a, 0x4f]],
];

/** Where the compressed kernel sits in a bzImage; throws when `buf` is not one (boot protocol ≥ 2.08). */
export function bzImagePayload(buf: Buffer, source = 'bzImage'): BzImagePayload {
  if (buf.length < 0x250 || buf.toString('latin1', 0x202, 0x206) !== 'HdrS') {
    throw new NicmatrixError('GUEST', `${source}: expected an x86 bzImage (setup header magic "HdrS" at 0x202), found none`);
  }
  const version = buf.readUInt16LE(0x206);
  if (version < 0x208)
    throw new NicmatrixError(
      'GUEST',
      `${source}: expected boot protocol 2.08 or later (payload_offset), found ${(version >> 8).toString()}.${(version & 0xff).toString(16)}`,
    );
  // setup_sects 0 means 4, by the boot protocol's oldest rule.
  const setupSects = buf[0x1f1] || 4;
  const offset = (setupSects + 1) * 512 + buf.readUInt32LE(0x248);
  const length = buf.readUInt32LE(0x24c);
  if (offset + length > buf.length)
    throw new NicmatrixError(
      'GUEST',
      `${source}: payload (offset ${offset}, length ${length}) runs past the end of the file (${buf.length} bytes)`,
    );
  const head = buf.subarray(offset, offset + 8);
  const found = MAGICS.find(([, magic]) => magic.every((b, i) => head[i] === b));
  if (!found) throw new NicmatrixError('GUEST', `${source}: unknown payload compression (first bytes ${head.toString('hex')})`);
  return { offset, length, compression: found[0] };
}

/** True when `buf` starts with an ELF header (a vmlinux rather than a bzImage). */
export function isElf(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf.toString('latin1', 1, 4) === 'ELF';
}

type Phdr = { type: number; offset: number; filesz: number };

/** Program headers of a 64-bit little-endian ELF; empty for anything else. */
function programHeaders(elf: Buffer): Phdr[] {
  if (!isElf(elf) || elf.length < 64 || elf[4] !== 2 || elf[5] !== 1) return [];
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const out: Phdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length) break;
    out.push({ type: elf.readUInt32LE(ph), offset: Number(elf.readBigUInt64LE(ph + 8)), filesz: Number(elf.readBigUInt64LE(ph + 32)) });
  }
  return out;
}

/** True for an ELF executable without a PT_INTERP (statically linked): it runs from an initramfs alone. */
export function isStaticElf(elf: Buffer): boolean {
  const phdrs = programHeaders(elf);
  return phdrs.length > 0 && !phdrs.some((p) => p.type === 3 /* PT_INTERP */);
}

/** XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry QEMU's `-kernel` needs to boot an ELF vmlinux. */
const PHYS32_ENTRY = 18;

/** True when a 64-bit little-endian ELF has a "Xen" note of type PHYS32_ENTRY (CONFIG_PVH). */
export function hasPvhNote(elf: Buffer): boolean {
  for (const ph of programHeaders(elf)) {
    if (ph.type !== 4 /* PT_NOTE */) continue;
    const end = Math.min(elf.length, ph.offset + ph.filesz);
    for (let off = ph.offset; off + 12 <= end;) {
      const namesz = elf.readUInt32LE(off);
      const descsz = elf.readUInt32LE(off + 4);
      const type = elf.readUInt32LE(off + 8);
      const name = elf.toString('latin1', off + 12, off + 12 + Math.max(0, namesz - 1));
      if (name === 'Xen' && type === PHYS32_ENTRY) return true;
      off += 12 + align4(namesz) + align4(descsz);
    }
  }
  return false;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
