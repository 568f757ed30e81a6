/**
 * The guest kernel: Debian's `linux-image-*-amd64`, fetched with
 * `apt-get download` into the cache and unpacked with `dpkg -x` (never
 * installed on the host), or one the user supplies (`kernel=`, `modules=`).
 * Also turns a bzImage into a PVH-bootable vmlinux, which boots ~2 s faster under TCG.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { execa } from 'execa';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { run } from '../../harness/sys/exec.js';
import { bzImagePayload, hasPvhNote, isElf } from './binfmt.js';
import { exists, publishDir, scratchDir, writeAtomic } from '../../harness/sys/cache.js';
import { inputsHash, parseAptDepends, parseAptVersion } from './image-plan.js';

export const DEBIAN_KERNEL_META = 'linux-image-amd64';

export interface KernelSource {
  /** For the record, e.g. `debian linux-image-6.1.0-56-amd64 6.1.192-2`. */
  description: string;
  /** bzImage or vmlinux as given/unpacked. */
  image: string;
  /** `…/lib/modules/RELEASE`, absent when every driver is built in. */
  modulesDir?: string;
}

/** The concrete Debian kernel package and version; runs `apt-get update` once if apt knows none. */
export async function resolveDebianKernel(signal?: AbortSignal): Promise<{ pkg: string; version: string }> {
  const lookup = async () => {
    const dep = await run('apt-cache', ['depends', DEBIAN_KERNEL_META], { reject: false, signal });
    const pkg = dep.exitCode === 0 ? parseAptDepends(dep.stdout) : undefined;
    if (!pkg) return undefined;
    const show = await run('apt-cache', ['show', '--no-all-versions', pkg], { reject: false, signal });
    const version = show.exitCode === 0 ? parseAptVersion(show.stdout) : undefined;
    return version ? { pkg, version } : undefined;
  };
  const first = await lookup();
  if (first) return first;
  await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000, signal });
  const second = await lookup();
  if (!second)
    throw new NicmatrixError(
      'PREREQUISITE',
      `apt knows no package that ${DEBIAN_KERNEL_META} depends on (expected "Depends: linux-image-…-amd64" from \`apt-cache depends ${DEBIAN_KERNEL_META}\`, even after apt-get update)`,
    );
  return second;
}

/** Downloads and unpacks Debian's kernel into `<cache>/kernels/PKG_VERSION` once; later calls reuse it. */
export async function debianKernel(root: string, signal?: AbortSignal): Promise<KernelSource> {
  const { pkg, version } = await resolveDebianKernel(signal);
  const dir = path.join(root, 'kernels', `${pkg}_${version.replace(/[^\w.+-]/g, '_')}`);
  if (!(await exists(path.join(dir, '.complete')))) {
    const scratch = await scratchDir(dir);
    try {
      // apt-get download writes into its working directory; exec.run has no cwd, hence execa.
      const dl = await execa('apt-get', ['download', `${pkg}=${version}`], {
        cwd: scratch.dir,
        reject: false,
        cancelSignal: signal,
        env: { LC_ALL: 'C' },
      });
      if (dl.exitCode !== 0)
        throw new NicmatrixError(
          'PREREQUISITE',
          `\`apt-get download ${pkg}=${version}\` exited ${dl.exitCode}: ${String(dl.stderr).trim()}`,
        );
      const deb = (await fs.readdir(scratch.dir)).find((f) => f.endsWith('.deb'));
      if (!deb)
        throw new NicmatrixError('PREREQUISITE', `apt-get download ${pkg}=${version}: expected a .deb in ${scratch.dir}, found none`);
      await run('dpkg', ['-x', path.join(scratch.dir, deb), path.join(scratch.dir, 'root')], { timeoutMs: 120_000, signal });
      await fs.rm(path.join(scratch.dir, deb));
      const release = await onlyRelease(path.join(scratch.dir, 'root', 'lib', 'modules'));
      // Debian ships no modules.dep: depmod builds it inside the unpacked tree, never in /lib/modules.
      await run('depmod', ['-b', path.join(scratch.dir, 'root'), release], { timeoutMs: 120_000, signal });
      await publishDir(scratch.dir, dir, `${pkg} ${version} ${release}`);
      await pruneOtherKernels(path.dirname(dir), path.basename(dir));
    } finally {
      await scratch.done();
    }
  }
  const complete = (await fs.readFile(path.join(dir, '.complete'), 'utf8')).trim();
  const [, , release] = complete.split(' ');
  if (!release)
    throw new NicmatrixError(
      'PREREQUISITE',
      `${path.join(dir, '.complete')}: expected "PACKAGE VERSION RELEASE", found "${complete}"; remove ${dir} to unpack the kernel again`,
    );
  return {
    description: `debian ${pkg} ${version}`,
    image: path.join(dir, 'root', 'boot', `vmlinuz-${release}`),
    modulesDir: path.join(dir, 'root', 'lib', 'modules', release),
  };
}

/** Removes unpacked kernels superseded by `keep` (each is ~400 MB); images already built from them stay usable. */
async function pruneOtherKernels(kernelsDir: string, keep: string): Promise<void> {
  for (const name of await fs.readdir(kernelsDir)) {
    if (name === keep || name.includes('.tmp-') || !(await exists(path.join(kernelsDir, name, '.complete')))) continue;
    await fs.rm(path.join(kernelsDir, name), { recursive: true, force: true });
  }
}

async function onlyRelease(modulesRoot: string): Promise<string> {
  const entries = await fs.readdir(modulesRoot);
  if (entries.length !== 1)
    throw new NicmatrixError(
      'PREREQUISITE',
      `${modulesRoot}: expected one kernel release directory, found ${entries.length} (${entries.join(', ')})`,
    );
  return entries[0]!;
}

/** A kernel the user supplies; checks the files exist and the modules carry depmod data. */
export async function userKernel(kernel: string, modulesDir?: string): Promise<KernelSource> {
  if (!(await exists(kernel))) throw new NicmatrixError('TARGET_SPEC', `kernel=${kernel}: no such file`);
  if (modulesDir && !(await exists(path.join(modulesDir, 'modules.dep')))) {
    throw new NicmatrixError(
      'TARGET_SPEC',
      `modules=${modulesDir}: expected modules.dep there (run \`depmod -b BASE RELEASE\` or \`make modules_install\`), found none`,
    );
  }
  return { description: `user ${kernel}${modulesDir ? ` with ${modulesDir}` : ''}`, image: kernel, modulesDir };
}

/**
 * The file QEMU should boot: the kernel itself when it is a PVH vmlinux, else
 * its vmlinux extracted into `<cache>/images/` when that has a PVH entry, else the bzImage.
 */
export async function bootableKernel(root: string, image: string, signal?: AbortSignal): Promise<string> {
  const buf = await fs.readFile(image);
  if (isElf(buf)) {
    if (!hasPvhNote(buf))
      throw new NicmatrixError(
        'TARGET_SPEC',
        `kernel=${image}: an ELF vmlinux without a PVH entry (CONFIG_PVH) cannot be booted by QEMU; give the bzImage instead`,
      );
    return image;
  }
  const key = inputsHash(['vmlinux', buf]);
  const out = path.join(root, 'images', `vmlinux-${key}`);
  const noPvh = `${out}.nopvh`;
  if (await exists(out)) return out;
  if (await exists(noPvh)) return image;
  const payload = bzImagePayload(buf, image);
  const packed = buf.subarray(payload.offset, payload.offset + payload.length);
  let vmlinux: Buffer | undefined;
  if (payload.compression === 'gzip') vmlinux = zlib.gunzipSync(packed);
  else if (payload.compression === 'xz' || payload.compression === 'zstd') {
    const tool = payload.compression === 'xz' ? 'xz' : 'zstd';
    // xz and zstd stop with an error on the padding after the stream; the data before it is whole.
    const r = await execa(tool, ['-dc'], { input: packed, encoding: 'buffer', reject: false, cancelSignal: signal, maxBuffer: 1 << 30 });
    vmlinux = r.stdout.length > 0 ? Buffer.from(r.stdout) : undefined;
  }
  if (!vmlinux || !hasPvhNote(vmlinux)) {
    await writeAtomic(noPvh, `${payload.compression}\n`);
    return image;
  }
  await writeAtomic(out, vmlinux);
  return out;
}
