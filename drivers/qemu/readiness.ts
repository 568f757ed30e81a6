/**
 * What `nicmatrix doctor` says of the QEMU side without building or booting
 * anything: which accelerator a run would try, and whether a guest image is
 * already in the cache (the first run builds it otherwise).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { cacheRoot } from '../../harness/sys/cache.js';
import { describeError } from '../../harness/codec/errors.js';
import { kvmDeviceProblem, probeRomRuns } from './accel.js';

/** KVM or TCG as far as the device node tells; a run still probes KVM by booting before it trusts it. */
export async function acceleratorLine(): Promise<string> {
  const problem = await kvmDeviceProblem();
  if (problem) return `TCG: /dev/kvm cannot be opened (${problem}); guests are emulated, several times slower than under KVM`;
  // The node opening proves nothing (some hosts abort on the first MSR): run the reset-vector probe a run would.
  const rom = await probeRomRuns('kvm').catch((e: unknown) => ({ ok: false, detail: describeError(e) }));
  return rom.ok
    ? 'KVM: a probe ROM ran under KVM; each run also boots the guest kernel under KVM before trusting it'
    : `TCG: /dev/kvm opens but KVM ${rom.detail}; guests are emulated, several times slower than under KVM`;
}

/** The newest x86 guest initramfs in the cache, or how to get one. */
export async function guestImageLine(root = cacheRoot()): Promise<{ ok: boolean; line: string }> {
  const dir = path.join(root, 'images');
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^initramfs-(?!sparc64).*\.cpio\.gz$/.test(n));
  const stats = await Promise.all(names.map(async (n) => ({ n, s: await fs.stat(path.join(dir, n)) })));
  const newest = stats.sort((a, b) => b.s.mtimeMs - a.s.mtimeMs)[0];
  if (!newest) return { ok: false, line: `none built in ${dir}: nicmatrix doctor --install builds it (or the first QEMU run does)` };
  const release = /^initramfs-(.+)-[0-9a-f]{16}\.cpio\.gz$/.exec(newest.n)?.[1] ?? 'unknown kernel';
  return { ok: true, line: `kernel ${release}, ${path.join(dir, newest.n)} (built ${newest.s.mtime.toISOString()})` };
}
