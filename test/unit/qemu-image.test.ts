import { describe, expect, it } from 'vitest';
import { bzImagePayload, hasPvhNote, isElf, isStaticElf } from '../../drivers/qemu/binfmt.js';
import {
  inputsHash,
  moduleClosure,
  moduleName,
  parseAptDepends,
  parseAptVersion,
  parseModulesBuiltin,
  parseModulesDep,
} from '../../drivers/qemu/image-plan.js';
import { backendOf, parseQemuOptions } from '../../drivers/qemu/options.js';

describe('Debian kernel package lookup', () => {
  it('reads the concrete package of the metapackage and its version', () => {
    expect(parseAptDepends('linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n')).toBe('linux-image-6.1.0-56-amd64');
    expect(parseAptDepends('linux-image-amd64\n')).toBeUndefined();
    expect(parseAptDepends('W: Unable to locate package linux-image-amd64')).toBeUndefined();
    expect(
      parseAptVersion(
        'Package: linux-image-6.1.0-56-amd64\nSource: linux-signed-amd64 (6.1.192+2)\nVersion: 6.1.192-2\nBuilt-Using: linux (= 6.1.192-2)\n',
      ),
    ).toBe('6.1.192-2');
  });
});

describe('module selection from modules.dep', () => {
  const dep = parseModulesDep(
    [
      'kernel/drivers/net/ethernet/intel/e1000/e1000.ko:',
      'kernel/drivers/net/ethernet/realtek/8139cp.ko: kernel/drivers/net/mii.ko',
      'kernel/drivers/net/ethernet/8390/ne2k-pci.ko: kernel/drivers/net/ethernet/8390/8390.ko',
      'kernel/drivers/net/mii.ko:',
      'kernel/drivers/net/ethernet/8390/8390.ko:',
      'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko',
      'kernel/net/9p/9pnet.ko:',
      'kernel/fs/netfs/netfs.ko:',
      '',
    ].join('\n'),
  );
  it('normalises module names as the kernel does', () => {
    expect(moduleName('kernel/drivers/net/ethernet/8390/ne2k-pci.ko')).toBe('ne2k_pci');
    expect(moduleName('x/virtio_net.ko.xz')).toBe('virtio_net');
    expect(moduleName('ne2k-pci')).toBe('ne2k_pci');
  });
  it('takes the wanted modules with their dependencies, once each, and names what is missing or built in', () => {
    const builtin = parseModulesBuiltin('kernel/drivers/virtio/virtio_pci.ko\n');
    const c = moduleClosure(dep, builtin, ['ne2k-pci', '8139cp', '9p', 'e1000', 'virtio_pci', 'vmxnet3']);
    expect(c.files).toEqual([
      'kernel/drivers/net/ethernet/8390/8390.ko',
      'kernel/drivers/net/ethernet/8390/ne2k-pci.ko',
      'kernel/drivers/net/ethernet/intel/e1000/e1000.ko',
      'kernel/drivers/net/ethernet/realtek/8139cp.ko',
      'kernel/drivers/net/mii.ko',
      'kernel/fs/9p/9p.ko',
      'kernel/fs/netfs/netfs.ko',
      'kernel/net/9p/9pnet.ko',
    ]);
    expect(c.builtin).toEqual(['virtio_pci']);
    expect(c.missing).toEqual(['vmxnet3']);
  });
  it('keys the cache on every input, unambiguously', () => {
    expect(inputsHash(['a', Buffer.from('b')])).toMatch(/^[0-9a-f]{16}$/);
    expect(inputsHash(['ab', 'c'])).not.toBe(inputsHash(['a', 'bc']));
    expect(inputsHash(['x'])).toBe(inputsHash(['x']));
  });
});

/** A minimal bzImage: setup header with payload_offset/length pointing at `payload`. */
function fakeBzImage(payload: Buffer): Buffer {
  const setupSects = 1;
  const buf = Buffer.alloc((setupSects + 1) * 512 + 16 + payload.length);
  buf[0x1f1] = setupSects;
  buf.write('HdrS', 0x202, 'latin1');
  buf.writeUInt16LE(0x20f, 0x206);
  buf.writeUInt32LE(16, 0x248);
  buf.writeUInt32LE(payload.length, 0x24c);
  payload.copy(buf, (setupSects + 1) * 512 + 16);
  return buf;
}

/** A minimal ELF64 with one program header (PT_NOTE with a Xen note of `type`, or PT_INTERP). */
function fakeElf(ph: { type: 'note'; noteType: number } | { type: 'interp' } | { type: 'load' }): Buffer {
  const note = Buffer.alloc(12 + 4 + 8);
  note.writeUInt32LE(4, 0);
  note.writeUInt32LE(8, 4);
  note.writeUInt32LE(ph.type === 'note' ? ph.noteType : 0, 8);
  note.write('Xen\0', 12, 'latin1');
  const buf = Buffer.alloc(64 + 56 + note.length);
  buf.write('\x7fELF', 0, 'latin1');
  buf[4] = 2;
  buf[5] = 1;
  buf.writeBigUInt64LE(64n, 0x20);
  buf.writeUInt16LE(56, 0x36);
  buf.writeUInt16LE(1, 0x38);
  buf.writeUInt32LE(ph.type === 'note' ? 4 : ph.type === 'interp' ? 3 : 1, 64);
  buf.writeBigUInt64LE(120n, 64 + 8);
  buf.writeBigUInt64LE(BigInt(note.length), 64 + 32);
  note.copy(buf, 120);
  return buf;
}

describe('kernel and program binaries', () => {
  it('finds the compressed vmlinux in a bzImage and names its compression', () => {
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
    expect(bzImagePayload(fakeBzImage(xz))).toEqual({ offset: 1024 + 16, length: xz.length, compression: 'xz' });
    expect(bzImagePayload(fakeBzImage(Buffer.from([0x1f, 0x8b, 8, 0]))).compression).toBe('gzip');
    expect(() => bzImagePayload(fakeBzImage(Buffer.from('????')))).toThrow(/unknown payload compression/);
    expect(() => bzImagePayload(Buffer.alloc(4096), '/boot/x')).toThrow(/\/boot\/x: expected an x86 bzImage/);
  });
  it('recognises a PVH entry note and a static executable', () => {
    expect(isElf(fakeElf({ type: 'load' }))).toBe(true);
    expect(hasPvhNote(fakeElf({ type: 'note', noteType: 18 }))).toBe(true);
    expect(hasPvhNote(fakeElf({ type: 'note', noteType: 17 }))).toBe(false);
    expect(isStaticElf(fakeElf({ type: 'load' }))).toBe(true);
    expect(isStaticElf(fakeElf({ type: 'interp' }))).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\n'))).toBe(false);
  });
});

describe('qemu target options', () => {
  it('defaults to automatic acceleration and the plain tap backend', () => {
    const o = parseQemuOptions('qemu:e1000', {});
    expect(o).toMatchObject({ accel: 'auto', vnetHdr: false, memMiB: 512, bootTimeoutMs: 60_000, append: [], agent: 'node' });
    expect(parseQemuOptions('qemu:e1000,agent=native', { agent: 'native' }).agent).toBe('native');
    expect(backendOf(o)).toBe('tap');
    expect(backendOf(parseQemuOptions('qemu:virtio-net-pci,vnet_hdr=on', { vnet_hdr: 'on' }))).toBe('tap+vnet_hdr');
  });
  it('reads a user kernel, memory, timeout and extra kernel words', () => {
    const o = parseQemuOptions('s', {
      kernel: '/src/bzImage',
      modules: '/tmp/m/lib/modules/6.9.0/',
      accel: 'tcg',
      mem: '512',
      boot_timeout: '5',
      append: 'e1000.debug=16+loglevel=7',
    });
    expect(o).toMatchObject({
      kernel: '/src/bzImage',
      modules: '/tmp/m/lib/modules/6.9.0',
      accel: 'tcg',
      memMiB: 512,
      bootTimeoutMs: 5000,
      append: ['e1000.debug=16', 'loglevel=7'],
    });
  });
  it('rejects what it cannot honour, naming the option and the value', () => {
    expect(() => parseQemuOptions('s', { speed: 'fast' })).toThrow(/unknown option "speed"; expected one of: kernel, modules/);
    expect(() => parseQemuOptions('s', { modules: '/tmp/m/lib/modules/6.9.0' })).toThrow(/modules= needs kernel= too/);
    expect(() => parseQemuOptions('s', { kernel: '/k', modules: '/tmp/mods' })).toThrow(
      /ending in lib\/modules\/VERSION, found "\/tmp\/mods"/,
    );
    expect(() => parseQemuOptions('s', { kernel: 'bzImage' })).toThrow(/absolute path/);
    expect(() => parseQemuOptions('s', { accel: 'hvf' })).toThrow(/accel expects auto, tcg or kvm, found "hvf"/);
    expect(() => parseQemuOptions('s', { vnet_hdr: 'yes' })).toThrow(/vnet_hdr expects on or off/);
    expect(() => parseQemuOptions('s', { mem: '64' })).toThrow(/mem expects a size in MiB/);
    expect(() => parseQemuOptions('s', { append: 'a b' })).toThrow(/append expects/);
    expect(() => parseQemuOptions('s', { agent: 'python' })).toThrow(/agent expects node or native, found "python"/);
    const thrown = (() => {
      try {
        parseQemuOptions('s', { accel: 'x' });
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toMatchObject({ code: 'TARGET_SPEC' });
  });
});
