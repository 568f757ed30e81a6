/**
 * The guest image: a boot kernel and a tiny initramfs (busybox-static, the
 * NIC/virtio/9p modules with depmod data, the init), built once into the
 * cache and rebuilt when an input changes (the inputs' hash is in the file
 * name). Node and the agent are not in it: the guest runs the host's over 9p.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { run } from '../../harness/sys/exec.js';
import { isStaticElf } from './binfmt.js';
import { cacheRoot, exists, scratchDir, writeAtomic } from '../../harness/sys/cache.js';
import { nicModules } from './catalogue.js';
import { guestFirmware } from './firmware.js';
import { type CpioEntry, writeCpio } from './cpio.js';
import { IMAGE_FORMAT, inputsHash, moduleClosure, parseModulesBuiltin, parseModulesDep } from './image-plan.js';
import { BASE_MODULES, initScript, PROTOCOL_MODULES } from './init-script.js';
import { bootableKernel, debianKernel, type KernelSource, userKernel } from './kernel.js';

export const BUSYBOX_PATH = '/bin/busybox';

export interface GuestImage {
  /** File QEMU boots (`-kernel`): a PVH vmlinux when possible, else the bzImage. */
  kernel: string;
  initrd: string;
  /** Kernel release of the modules (`6.1.0-56-amd64`), `unknown` without modules. */
  release: string;
  /** Where the kernel came from, for the record. */
  source: string;
  /** Hash of the initramfs inputs (also in its file name). */
  hash: string;
  /** Wanted modules the kernel has neither as module nor built in. */
  missingModules: string[];
  /** Firmware the NIC modules declare: put in the image, found nowhere, and why not. */
  firmware: { included: string[]; missing: string[]; notes: string[] };
}

export interface GuestImageOptions {
  kernel?: string;
  modules?: string;
  /** Cache directory (default `cacheRoot()`). */
  cache?: string;
}

const building = new Map<string, Promise<GuestImage>>();

/** Builds (or finds in the cache) the image for Debian's kernel or the user's; one build per process and inputs. */
export function ensureGuestImage(opts: GuestImageOptions = {}, signal?: AbortSignal): Promise<GuestImage> {
  const root = opts.cache ?? cacheRoot();
  const key = JSON.stringify([root, opts.kernel ?? '', opts.modules ?? '']);
  let p = building.get(key);
  if (!p) {
    p = build(root, opts, signal);
    building.set(key, p);
    // A failed build (interrupted download...) may succeed when asked again.
    p.catch(() => building.delete(key));
  }
  return p;
}

async function build(root: string, opts: GuestImageOptions, signal?: AbortSignal): Promise<GuestImage> {
  const src: KernelSource = opts.kernel ? await userKernel(opts.kernel, opts.modules) : await debianKernel(root, signal);
  const busybox = await fs.readFile(BUSYBOX_PATH).catch((e: unknown) => {
    throw new NicmatrixError('PREREQUISITE', `${BUSYBOX_PATH}: not readable (install busybox-static)`, { cause: e });
  });
  if (!isStaticElf(busybox))
    throw new NicmatrixError(
      'PREREQUISITE',
      `${BUSYBOX_PATH}: expected a statically linked busybox (package busybox-static), found a dynamically linked one`,
    );
  const wanted = [...BASE_MODULES, ...nicModules()];
  const modules = src.modulesDir
    ? await moduleFiles(src.modulesDir, [...wanted, ...PROTOCOL_MODULES])
    : { release: 'unknown', files: new Map<string, Buffer>(), missing: [], extra: new Map<string, Buffer>() };
  // Protocol modules are optional: a kernel without them gives those checks a skip naming the module.
  const missingWanted = modules.missing.filter((m) => !PROTOCOL_MODULES.includes(m));
  if (!opts.kernel && missingWanted.length > 0) {
    throw new NicmatrixError(
      'PREREQUISITE',
      `${src.description}: expected modules ${missingWanted.join(', ')} (as modules or built in), found neither`,
    );
  }
  const firmware = src.modulesDir
    ? await guestFirmware(
        root,
        [...modules.files.keys()].map((rel) => path.join(src.modulesDir!, rel)),
        signal,
      )
    : { files: new Map<string, Buffer>(), missing: [], notes: [] };
  const init = initScript();
  const inputs: (string | Buffer)[] = [IMAGE_FORMAT, init, busybox, modules.release];
  for (const [rel, data] of [...modules.files, ...modules.extra]) inputs.push(rel, data);
  for (const [name, data] of firmware.files) inputs.push(`firmware/${name}`, data);
  const hash = inputsHash(inputs);
  const initrd = path.join(root, 'images', `initramfs-${modules.release}-${hash}.cpio.gz`);
  if (!(await exists(initrd))) {
    const entries: CpioEntry[] = [
      { type: 'file', path: 'init', data: Buffer.from(init), mode: 0o755 },
      { type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
      // The kernel opens /dev/console for init's stdio before init mounts devtmpfs.
      { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      ...['proc', 'sys', 'tmp', 'host'].map((d): CpioEntry => ({ type: 'dir', path: d })),
    ];
    if (modules.files.size > 0) entries.push(...(await depmodEntries(initrd, modules.release, modules.files, modules.extra, signal)));
    for (const [name, data] of firmware.files) entries.push({ type: 'file', path: `lib/firmware/${name}`, data });
    await writeAtomic(initrd, zlib.gzipSync(writeCpio(entries), { level: 6 }));
  }
  const kernel = await bootableKernel(root, src.image, signal);
  return {
    kernel,
    initrd,
    release: modules.release,
    source: src.description,
    hash,
    missingModules: modules.missing,
    firmware: { included: [...firmware.files.keys()], missing: firmware.missing, notes: firmware.notes },
  };
}

/** Files of the wanted modules and their dependencies, read from the kernel's modules tree. */
async function moduleFiles(modulesDir: string, wanted: string[]) {
  const release = path.basename(modulesDir);
  const depText = await fs.readFile(path.join(modulesDir, 'modules.dep'), 'utf8');
  const builtinText = await fs.readFile(path.join(modulesDir, 'modules.builtin'), 'utf8').catch(() => '');
  const closure = moduleClosure(parseModulesDep(depText), parseModulesBuiltin(builtinText), wanted);
  const files = new Map<string, Buffer>();
  for (const rel of closure.files) files.set(rel, await fs.readFile(path.join(modulesDir, rel)));
  // depmod reads these to tell built-in modules apart; modules.order keeps its ordering stable.
  const extra = new Map<string, Buffer>();
  for (const name of ['modules.builtin', 'modules.order']) {
    const p = path.join(modulesDir, name);
    if (await exists(p)) extra.set(name, await fs.readFile(p));
  }
  return { release, files, missing: closure.missing, extra };
}

/** Lays the modules out in a scratch tree, runs `depmod -b` on it and returns everything as cpio entries. */
async function depmodEntries(
  near: string,
  release: string,
  files: Map<string, Buffer>,
  extra: Map<string, Buffer>,
  signal?: AbortSignal,
): Promise<CpioEntry[]> {
  const scratch = await scratchDir(near);
  try {
    const modDir = path.join(scratch.dir, 'lib', 'modules', release);
    for (const [rel, data] of [...files, ...extra]) {
      await fs.mkdir(path.dirname(path.join(modDir, rel)), { recursive: true });
      await fs.writeFile(path.join(modDir, rel), data);
    }
    await run('depmod', ['-b', scratch.dir, release], { signal });
    const out: CpioEntry[] = [];
    for (const rel of (await fs.readdir(modDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile())) {
      const full = path.join(rel.parentPath, rel.name);
      out.push({ type: 'file', path: path.relative(scratch.dir, full), data: await fs.readFile(full) });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  } finally {
    await scratch.done();
  }
}
