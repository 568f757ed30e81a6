/**
 * Firmware the guest's NIC drivers load (`modinfo -F firmware`): some chips
 * cannot bring their link up without it (the 82551 needs e100/d102e_ucode.bin).
 * Taken from the host's /lib/firmware, or from Debian's `firmware-misc-nonfree`
 * fetched with apt into the cache (non-free-firmware, signed like the rest of
 * Debian; never installed on the host). A file found nowhere is left out: the
 * guest then says which firmware its driver could not load.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { run } from '../../harness/sys/exec.js';
import { exists, publishDir, scratchDir } from '../../harness/sys/cache.js';

/** The Debian package that carries the e100 (and other NIC) microcode. */
export const FIRMWARE_PACKAGE = 'firmware-misc-nonfree';

/** Firmware file names from `modinfo -F firmware` output: one per line (pure). */
export function parseFirmwareNames(text: string): string[] {
  return [
    ...new Set(
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('/') && !l.includes('..')),
    ),
  ].sort();
}

/** The apt source line for Debian's non-free-firmware component of `codename` (pure). */
export function firmwareSourceLine(codename: string): string {
  return `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${codename} non-free-firmware\n`;
}

/** Firmware names the given module files declare. */
async function declaredFirmware(moduleFiles: readonly string[], signal?: AbortSignal): Promise<string[]> {
  if (moduleFiles.length === 0) return [];
  const r = await run('modinfo', ['-F', 'firmware', ...moduleFiles], { reject: false, signal });
  return parseFirmwareNames(r.stdout);
}

/** `VERSION_CODENAME` of this Debian host, undefined elsewhere. */
async function debianCodename(): Promise<string | undefined> {
  const text = await fs.readFile('/etc/os-release', 'utf8').catch(() => '');
  if (!/^ID=debian$/m.test(text)) return undefined;
  return /^VERSION_CODENAME=(\w+)$/m.exec(text)?.[1];
}

/**
 * Unpacks `firmware-misc-nonfree` into `<root>/firmware/debian` once (apt with its own source list and state under the
 * cache); the directory holding its lib/firmware, or undefined when it cannot be had (no Debian, offline).
 */
async function debianFirmwareDir(root: string, notes: string[], signal?: AbortSignal): Promise<string | undefined> {
  const dir = path.join(root, 'firmware', 'debian');
  if (await exists(path.join(dir, '.complete'))) return path.join(dir, 'lib', 'firmware');
  const codename = await debianCodename();
  if (!codename) return undefined;
  const scratch = await scratchDir(dir);
  try {
    const apt = path.join(scratch.dir, 'apt');
    await fs.mkdir(path.join(apt, 'lists', 'partial'), { recursive: true });
    await fs.writeFile(path.join(apt, 'sources.list'), firmwareSourceLine(codename));
    // apt's own state stays in the scratch tree: the host's sources and lists are never touched.
    const opts = [
      '-o',
      `Dir::Etc::SourceList=${path.join(apt, 'sources.list')}`,
      '-o',
      'Dir::Etc::SourceParts=-',
      '-o',
      `Dir::State::Lists=${path.join(apt, 'lists')}`,
    ];
    const aptRun = (args: string[]) =>
      execa('apt-get', [...opts, ...args], { cwd: scratch.dir, reject: false, cancelSignal: signal, env: { LC_ALL: 'C' } });
    const steps = [await aptRun(['update', '-qq'])];
    if (steps[0]!.exitCode === 0) steps.push(await aptRun(['download', FIRMWARE_PACKAGE]));
    const failed = steps.find((s) => s.exitCode !== 0);
    const deb = (await fs.readdir(scratch.dir)).find((f) => f.endsWith('.deb'));
    if (failed || !deb) {
      notes.push(
        `${FIRMWARE_PACKAGE} could not be fetched: ${failed ? String(failed.stderr).trim().split('\n').pop() : 'apt-get download left no .deb'}`,
      );
      return undefined;
    }
    await run('dpkg', ['-x', path.join(scratch.dir, deb), scratch.dir], { timeoutMs: 120_000, signal });
    await fs.rm(path.join(scratch.dir, deb));
    await fs.rm(apt, { recursive: true });
    await publishDir(scratch.dir, dir, deb);
    return path.join(dir, 'lib', 'firmware');
  } finally {
    await scratch.done();
  }
}

/** The firmware the modules declare that can be found: relative name (e100/d102e_ucode.bin) → content; why not, in notes. */
export async function guestFirmware(
  root: string,
  moduleFiles: readonly string[],
  signal?: AbortSignal,
): Promise<{ files: Map<string, Buffer>; missing: string[]; notes: string[] }> {
  const notes: string[] = [];
  const names = await declaredFirmware(moduleFiles, signal);
  const files = new Map<string, Buffer>();
  const read = (dir: string, name: string) => fs.readFile(path.join(dir, name)).catch(() => undefined);
  for (const name of names) {
    const data = await read('/lib/firmware', name);
    if (data) files.set(name, data);
  }
  if (files.size < names.length) {
    const debian = await debianFirmwareDir(root, notes, signal);
    for (const name of names.filter((n) => !files.has(n))) {
      const data = debian ? await read(debian, name) : undefined;
      if (data) files.set(name, data);
    }
  }
  return { files, missing: names.filter((n) => !files.has(n)), notes };
}
