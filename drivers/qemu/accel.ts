/**
 * Choosing QEMU's accelerator: TCG unless KVM is shown to work. `/dev/kvm`
 * existing proves nothing (on some hosts QEMU aborts setting MSRs, or the
 * kernel hangs before its first console line), so the probe runs what the
 * guests will run: the reset-vector ROM with `-cpu host`, then the guest
 * kernel up to its init, each under a strict timeout. Cached per process.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { cleanup } from '../../harness/sys/cleanup.js';
import type { GuestImage } from './image.js';
import { PROBE_CMDLINE, PROBE_OK } from './init-script.js';
import type { AccelChoice } from './options.js';
import { type Accel, bootArgs, cpuArgs, pcArgs, PROBE_EXIT_CODE, probeArgs, probeRom, QEMU_BINARY } from './qemu-args.js';

/** The ROM stage: a working accelerator finishes in well under a second. */
export const ROM_PROBE_TIMEOUT_MS = 3_000;
/** The boot stage: a KVM guest reaches init in about a second; TCG's several are not the question. */
export const BOOT_PROBE_TIMEOUT_MS = 6_000;

export interface AccelDecision {
  accel: Accel;
  /** Why: the probe's finding, for the record's evidence. */
  reason: string;
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** Runs the ROM probe under `accel`: ok when the guest CPU executed the ROM's `out`. */
export async function probeRomRuns(accel: Accel): Promise<ProbeResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nicmatrix-probe-'));
  const teardown = cleanup.register(`probe dir ${dir}`, () => fs.rm(dir, { recursive: true, force: true }));
  try {
    const rom = path.join(dir, 'probe.rom');
    await fs.writeFile(rom, probeRom());
    const args = [...probeArgs(accel, rom), ...(accel === 'kvm' ? ['-cpu', 'host'] : [])];
    return await runProbe(args, ROM_PROBE_TIMEOUT_MS, (r) => r.exitCode === PROBE_EXIT_CODE, 'the reset-vector ROM');
  } finally {
    await teardown.run();
  }
}

/** Boots the guest kernel to its init (which powers off at once), with the CPU model guests get under `accel`. */
export async function probeBoot(image: GuestImage, accel: Accel, timeoutMs = BOOT_PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  const args = [
    ...pcArgs(accel),
    ...cpuArgs(accel),
    ...bootArgs({ memMiB: 128, kernel: image.kernel, initrd: image.initrd, cmdline: PROBE_CMDLINE }),
    '-serial',
    'stdio',
  ];
  return runProbe(args, timeoutMs, (r) => r.stdout.includes(PROBE_OK), 'the guest kernel to its init');
}

async function runProbe(
  args: string[],
  timeoutMs: number,
  ok: (r: { exitCode?: number; stdout: string }) => boolean,
  what: string,
): Promise<ProbeResult> {
  // forceKillAfterDelay: a wedged KVM vCPU may ignore SIGTERM.
  const r = await execa(QEMU_BINARY, args, {
    reject: false,
    timeout: timeoutMs,
    forceKillAfterDelay: 1_000,
    stdin: 'ignore',
    cleanup: true,
    all: true,
  });
  const out = { exitCode: r.exitCode, stdout: String(r.stdout ?? '') };
  if (ok(out)) return { ok: true, detail: `ran ${what}` };
  const said = String(r.all ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('qemu'))
    .slice(-1)[0];
  const how = r.timedOut
    ? `did not finish ${what} within ${timeoutMs} ms`
    : `ended with ${r.signal ?? `code ${r.exitCode}`} before finishing ${what}`;
  return { ok: false, detail: `${how}${said ? ` (${said.trim()})` : ''}` };
}

/** Why /dev/kvm cannot be opened read-write (its errno), or undefined when it can. */
export function kvmDeviceProblem(): Promise<string | undefined> {
  return fs.open('/dev/kvm', 'r+').then(
    async (h) => (await h.close(), undefined),
    (e: NodeJS.ErrnoException) => e.code ?? 'error',
  );
}

const kvmVerdicts = new Map<string, Promise<ProbeResult>>();

/** Whether KVM really runs this image's kernel here; probed once per process and image. */
export function probeKvm(image: GuestImage): Promise<ProbeResult> {
  let p = kvmVerdicts.get(image.kernel);
  if (!p) {
    p = (async (): Promise<ProbeResult> => {
      const dev = await kvmDeviceProblem();
      if (dev) return { ok: false, detail: `/dev/kvm cannot be opened (${dev})` };
      const rom = await probeRomRuns('kvm');
      if (!rom.ok) return { ok: false, detail: `KVM ${rom.detail}` };
      const boot = await probeBoot(image, 'kvm');
      return boot.ok ? { ok: true, detail: 'KVM booted the guest kernel to its init' } : { ok: false, detail: `KVM ${boot.detail}` };
    })();
    kvmVerdicts.set(image.kernel, p);
  }
  return p;
}

/** The accelerator for a guest: `tcg` as asked, `kvm` as asked (no probe: the user insists), `auto` by the probe. */
export async function chooseAccel(choice: AccelChoice, image: GuestImage): Promise<AccelDecision> {
  if (choice === 'tcg') return { accel: 'tcg', reason: 'accel=tcg requested' };
  if (choice === 'kvm') return { accel: 'kvm', reason: 'accel=kvm requested (not probed)' };
  const kvm = await probeKvm(image);
  return kvm.ok ? { accel: 'kvm', reason: kvm.detail } : { accel: 'tcg', reason: `fell back to TCG: ${kvm.detail}` };
}
