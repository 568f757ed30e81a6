/** The `qemu:<model>` rows of `nicmatrix targets`, with the QEMU present and which of its devices exist. */
import { run } from '../../harness/sys/exec.js';
import { QEMU_MODELS } from './catalogue.js';
import { QEMU_BINARY } from './qemu-args.js';
import { SPARC64_QEMU, sparc64Missing } from './sparc64.js';

export interface QemuTargetRow {
  spec: string;
  kind: 'qemu';
  description: string;
  available: boolean;
  note?: string;
}

/** QEMU's version line (`QEMU emulator version 7.2.22 (…)` → `7.2.22`), or undefined when QEMU is missing. */
export async function qemuVersion(): Promise<string | undefined> {
  const r = await run(QEMU_BINARY, ['--version'], { reject: false, timeoutMs: 10_000 }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  return /version\s+(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0];
}

/** Every catalogue model, marked unavailable when QEMU or its device is missing. */
export async function listQemuTargets(): Promise<QemuTargetRow[]> {
  const version = await qemuVersion();
  if (!version) {
    return QEMU_MODELS.map((m) => ({
      spec: `qemu:${m.model}`,
      kind: 'qemu',
      description: m.description,
      available: false,
      note: `${QEMU_BINARY} not found (install qemu-system-x86)`,
    }));
  }
  const help = await run(QEMU_BINARY, ['-device', 'help'], { reject: false, timeoutMs: 10_000 });
  const devices = new Set([...help.stdout.matchAll(/^name "([^"]+)"/gm)].map((m) => m[1]));
  const sparcMissing = QEMU_MODELS.some((m) => m.arch === 'sparc64') ? await sparc64Missing() : [];
  return QEMU_MODELS.map((m) => {
    if (m.arch === 'sparc64') {
      const ok = sparcMissing.length === 0;
      const note = ok
        ? `${SPARC64_QEMU} sun4u, cross-built kernel (built on first use), native agent; Linux driver ${m.driver}`
        : `needs ${sparcMissing.join(', ')} (nicmatrix doctor --install)`;
      return { spec: `qemu:${m.model}`, kind: 'qemu', description: m.description, available: ok, note };
    }
    const available = devices.has(m.device);
    const note = available ? `QEMU ${version}, Linux driver ${m.driver}` : `QEMU ${version} has no device "${m.device}"`;
    return { spec: `qemu:${m.model}`, kind: 'qemu', description: m.description, available, note };
  });
}
