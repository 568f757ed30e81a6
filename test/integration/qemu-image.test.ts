/**
 * The guest image for real: what the cached initramfs holds, that its name
 * follows its inputs' content, and that a user-supplied kernel and modules
 * tree (kernel=, modules=) boots a guest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPvhNote } from '../../drivers/qemu/binfmt.js';
import { nicModules } from '../../drivers/qemu/catalogue.js';
import { readCpio } from '../../drivers/qemu/cpio.js';
import { QemuDut } from '../../drivers/qemu/dut.js';
import { ensureGuestImage, type GuestImage } from '../../drivers/qemu/image.js';
import { moduleClosure, moduleName, parseModulesBuiltin, parseModulesDep } from '../../drivers/qemu/image-plan.js';
import { BASE_MODULES } from '../../drivers/qemu/init-script.js';
import { debianKernel } from '../../drivers/qemu/kernel.js';
import { cacheRoot } from '../../harness/sys/cache.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'nicmatrix-image-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let image: GuestImage;
let modulesDir: string;
beforeAll(async () => {
  image = await ensureGuestImage();
  modulesDir = (await debianKernel(cacheRoot())).modulesDir!;
}, 600_000);

/** A `…/lib/modules/RELEASE` tree holding only what the guest needs, copied from Debian's. */
function userModulesTree(name: string, tamper?: string): string {
  const dir = path.join(scratch, name, 'lib', 'modules', image.release);
  const dep = fs.readFileSync(path.join(modulesDir, 'modules.dep'), 'utf8');
  const builtin = fs.readFileSync(path.join(modulesDir, 'modules.builtin'), 'utf8');
  const { files } = moduleClosure(parseModulesDep(dep), parseModulesBuiltin(builtin), [...BASE_MODULES, ...nicModules()]);
  for (const rel of files) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(path.join(modulesDir, rel), path.join(dir, rel));
    if (tamper && moduleName(rel) === tamper) fs.appendFileSync(path.join(dir, rel), '\0');
  }
  fs.writeFileSync(
    path.join(dir, 'modules.dep'),
    dep
      .split('\n')
      .filter((l) => files.includes(l.slice(0, l.indexOf(':'))))
      .join('\n') + '\n',
  );
  fs.writeFileSync(path.join(dir, 'modules.builtin'), builtin);
  return dir;
}

describe('guest image', () => {
  it('holds the init, a static busybox, /dev/console and every NIC, virtio and 9p module with depmod data', () => {
    expect(path.basename(image.initrd)).toBe(`initramfs-${image.release}-${image.hash}.cpio.gz`);
    const entries = new Map(readCpio(zlib.gunzipSync(fs.readFileSync(image.initrd))).map((e) => [e.name, e]));
    expect(entries.get('init')!.mode & 0o777).toBe(0o755);
    expect(entries.get('init')!.data.toString()).toMatch(/^#!\/bin\/busybox sh\n/);
    expect(entries.has('bin/busybox')).toBe(true);
    expect(entries.get('dev/console')).toMatchObject({ rdevMajor: 5, rdevMinor: 1 });
    const modDir = `lib/modules/${image.release}`;
    const dep = entries.get(`${modDir}/modules.dep`)!.data.toString();
    const present = new Set(
      dep
        .split('\n')
        .filter(Boolean)
        .map((l) => moduleName(l.slice(0, l.indexOf(':')))),
    );
    for (const m of [...BASE_MODULES, ...nicModules()]) expect(present, m).toContain(moduleName(m));
    expect(entries.has(`${modDir}/modules.alias`)).toBe(true);
    expect(image.missingModules).toEqual([]);
  });

  it('holds the firmware the NIC drivers declare, from Debian (the 82551 cannot bring its link up without its microcode)', () => {
    const entries = new Map(readCpio(zlib.gunzipSync(fs.readFileSync(image.initrd))).map((e) => [e.name, e]));
    expect(image.firmware.included, image.firmware.notes.join('; ')).toContain('e100/d102e_ucode.bin');
    for (const name of image.firmware.included) expect(entries.get(`lib/firmware/${name}`)?.data.length, name).toBeGreaterThan(0);
    expect(image.firmware.missing).toEqual([]);
  });

  it("boots Debian's kernel as a PVH vmlinux extracted into the cache", () => {
    expect(image.source).toMatch(/^debian linux-image-\S+-amd64 \S+$/);
    expect(hasPvhNote(fs.readFileSync(image.kernel))).toBe(true);
  });

  it("names the initramfs after its inputs' content: same modules same image, a changed module a new one", async () => {
    const cache = path.join(scratch, 'cache');
    const a = await ensureGuestImage({ kernel: image.kernel, modules: userModulesTree('a'), cache });
    const same = await ensureGuestImage({ kernel: image.kernel, modules: userModulesTree('b'), cache });
    const changed = await ensureGuestImage({ kernel: image.kernel, modules: userModulesTree('c', 'e1000'), cache });
    expect(a.source).toMatch(/^user /);
    expect(same.initrd).toBe(a.initrd);
    expect(changed.initrd).not.toBe(a.initrd);
    expect(fs.existsSync(a.initrd) && fs.existsSync(changed.initrd)).toBe(true);
    expect(fs.readdirSync(path.join(cache, 'images')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('boots a guest on a user-supplied kernel and modules tree', async () => {
    const modules = userModulesTree('boot');
    const dut = new QemuDut({
      kind: 'qemu',
      spec: `qemu:e1000,kernel=${image.kernel},modules=${modules}`,
      model: 'e1000',
      options: { kernel: image.kernel, modules, accel: 'tcg' },
    });
    try {
      await dut.start(new AbortController().signal);
      const facts = await dut.collect();
      expect(facts.driver.name).toBe('e1000');
      expect(facts.kernel).toBe(image.release);
      expect((facts.evidence.image as { source: string }).source).toBe(`user ${image.kernel} with ${modules}`);
    } finally {
      await dut.stop();
    }
  });

  it('refuses a modules tree without depmod data, naming the file', async () => {
    const dir = path.join(scratch, 'nodep', 'lib', 'modules', '6.9.0');
    fs.mkdirSync(dir, { recursive: true });
    await expect(ensureGuestImage({ kernel: image.kernel, modules: dir, cache: path.join(scratch, 'cache2') })).rejects.toThrow(
      /expected modules.dep there/,
    );
  });
});
