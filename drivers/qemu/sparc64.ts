/**
 * The sparc64 guest of `qemu:sunhme`: a kernel cross-built from Debian's
 * linux-source-6.1 with the minimal config in sparc64/kernel.config (sunhme,
 * the su serial console, virtio-serial, packet sockets, IPv6, tunnels, SCTP;
 * no modules), and an initramfs holding only the static native agent as
 * /init. Both are cached under names carrying the hash of their inputs and
 * rebuilt only when those change. QEMU's sun4u machine carries the Happy Meal
 * on board (`-nic …,model=sunhme`); the agent's virtio-serial port sits on its second PCI bus.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { nativeAgentPath } from '../../harness/agent/native.js';
import { LINUX_SOURCE_TARBALL } from '../../harness/sys/prereqs.js';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { run } from '../../harness/sys/exec.js';
import { projectRoot } from '../../harness/sys/paths.js';
import { cacheRoot, exists, writeAtomic } from '../../harness/sys/cache.js';
import { type CpioEntry, writeCpio } from './cpio.js';
import type { GuestImage } from './image.js';
import { type GuestBootParams, linkWords } from './init-script.js';
import { agentPortArgs, bootArgs } from './qemu-args.js';

export const SPARC64_QEMU = 'qemu-system-sparc64';
export const SPARC64_CROSS = 'sparc64-linux-gnu-';
/** The kernel recipe lives in the source tree (dist/ has no copy of it). */
function recipeDir(): string {
  return path.join(projectRoot, 'drivers', 'qemu', 'sparc64');
}

/** What the sparc64 target needs on this host; empty when it can be built and run. */
export async function sparc64Missing(): Promise<string[]> {
  const missing: string[] = [];
  const has = async (cmd: string, args: string[]) =>
    (await run(cmd, args, { reject: false, timeoutMs: 10_000 }).catch(() => ({ exitCode: 1 }))).exitCode === 0;
  if (!(await has(SPARC64_QEMU, ['--version']))) missing.push(`${SPARC64_QEMU} (package qemu-system-sparc)`);
  if (!(await has(`${SPARC64_CROSS}gcc`, ['--version']))) missing.push(`${SPARC64_CROSS}gcc (package gcc-sparc64-linux-gnu)`);
  if (!(await exists('/usr/sparc64-linux-gnu/lib/libc.a'))) missing.push('the sparc64 C library (package libc6-dev-sparc64-cross)');
  if (!(await exists(LINUX_SOURCE_TARBALL))) missing.push(`${LINUX_SOURCE_TARBALL} (package linux-source-6.1)`);
  for (const tool of ['flex', 'bison', 'bc', 'make']) if (!(await has(tool, ['--version']))) missing.push(tool);
  return missing;
}

const building = new Map<string, Promise<GuestImage>>();

/** The sparc64 kernel and initramfs, built into the cache on first use (the kernel takes long: minutes to an hour). */
export function ensureSparc64Image(signal?: AbortSignal): Promise<GuestImage> {
  const key = cacheRoot();
  let p = building.get(key);
  if (!p) {
    p = build(signal);
    building.set(key, p);
    p.catch(() => building.delete(key));
  }
  return p;
}

async function build(signal?: AbortSignal): Promise<GuestImage> {
  const missing = await sparc64Missing();
  if (missing.length > 0)
    throw new NicmatrixError('PREREQUISITE', `qemu:sunhme needs ${missing.join(', ')}: run \`nicmatrix doctor --install\``);
  const root = cacheRoot();
  const kernel = await sparc64Kernel(root, signal);
  const agent = await fs.readFile(await nativeAgentPath('sparc64', signal));
  const entries: CpioEntry[] = [
    { type: 'file', path: 'init', data: agent, mode: 0o755 },
    // The kernel opens /dev/console for init's stdio before init mounts devtmpfs.
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ...['proc', 'sys', 'tmp'].map((d): CpioEntry => ({ type: 'dir', path: d })),
  ];
  const hash = crypto.createHash('sha256').update('sparc64-initramfs-1\0').update(agent).digest('hex').slice(0, 16);
  const initrd = path.join(root, 'images', `initramfs-sparc64-${hash}.cpio.gz`);
  if (!(await exists(initrd))) await writeAtomic(initrd, zlib.gzipSync(writeCpio(entries), { level: 6 }));
  // sunhme loads no firmware: its kernel is built for it alone.
  const firmware = { included: [], missing: [], notes: [] };
  return { kernel: kernel.image, initrd, release: kernel.release, source: kernel.source, hash, missingModules: [], firmware };
}

/** Builds (or finds) the kernel; its cache name is the hash of the recipe, the config, the source package and the compiler. */
async function sparc64Kernel(root: string, signal?: AbortSignal): Promise<{ image: string; release: string; source: string }> {
  const dir = recipeDir();
  const script = path.join(dir, 'build-kernel.sh');
  const fragment = path.join(dir, 'kernel.config');
  const srcVersion = (
    await run('dpkg-query', ['-W', '-f', '${Version}', 'linux-source-6.1'], { reject: false }).catch(() => ({ stdout: '' }))
  ).stdout.trim();
  const gcc = (await run(`${SPARC64_CROSS}gcc`, ['-dumpfullversion'], { reject: false })).stdout.trim();
  const hash = crypto
    .createHash('sha256')
    .update(await fs.readFile(script))
    .update('\0')
    .update(await fs.readFile(fragment))
    .update(`\0${srcVersion}\0${gcc}`)
    .digest('hex')
    .slice(0, 16);
  const image = path.join(root, 'images', `vmlinux-sparc64-${hash}`);
  const source = `linux-source-6.1 ${srcVersion || 'unknown'} (${path.basename(fragment)} over tinyconfig), ${SPARC64_CROSS}gcc ${gcc}`;
  if (await exists(image)) return { image, release: '6.1-sparc64', source };
  await fs.mkdir(path.dirname(image), { recursive: true });
  const t0 = Date.now();
  // One work tree for every config: make rebuilds only what a changed input touches.
  const r = await run('sh', [script, LINUX_SOURCE_TARBALL, fragment, path.join(root, 'sparc64-kernel'), image], {
    reject: false,
    timeoutMs: 4 * 3600_000,
    signal,
  });
  if (r.exitCode !== 0)
    throw new NicmatrixError(
      'PREREQUISITE',
      `qemu:sunhme: the sparc64 kernel build failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).slice(-1500)}`,
    );
  await fs.writeFile(`${image}.build-seconds`, `${Math.round((Date.now() - t0) / 1000)}\n`);
  return { image, release: '6.1-sparc64', source };
}

/** Seconds the cached kernel took to build (written once by the build), for the benchmark. */
export async function sparc64KernelBuildSeconds(image: string): Promise<number | undefined> {
  const text = await fs.readFile(`${image}.build-seconds`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.trim());
}

/** The sparc64 guest's command line: only what its init reads (OpenBIOS passes a short one). */
export function sparc64Cmdline(p: Omit<GuestBootParams, 'node' | 'agent'>): string {
  return ['console=ttyS0', 'quiet', 'panic=-1', ...linkWords(p).map(([k, v]) => `nicmatrix.${k}=${v}`), ...(p.extra ?? [])].join(' ');
}

export interface Sparc64QemuConfig {
  memMiB: number;
  kernel: string;
  initrd: string;
  cmdline: string;
  mac: string;
  tap: string;
  /** NIC model on the sun4u board (`sunhme`). */
  model: string;
}

/** sun4u under TCG: the on-board NIC on the tap, the agent's virtio-serial port on PCI bus B, no display. */
export function sparc64GuestArgs(c: Sparc64QemuConfig): string[] {
  return [
    '-machine',
    'sun4u',
    '-no-user-config',
    '-display',
    'none',
    '-vga',
    'none',
    ...bootArgs(c),
    ...agentPortArgs('virtio-serial-pci,bus=pciB'),
    '-nic',
    `tap,ifname=${c.tap},script=no,downscript=no,model=${c.model},mac=${c.mac}`,
  ];
}
