/**
 * Reading a guest's console (pure): what the init reported, and why a guest
 * failed, in one sentence for the error message. The console text mixes the
 * serial console with QEMU's own stderr lines (`qemu-system-x86_64: …`).
 */
import { INIT_PREFIX } from './init-script.js';

/** How QEMU ended, as the child process reported it. */
export interface QemuExit {
  code: number | null;
  signal: string | null;
}

/** Last `max` characters, cut at a line start so the tail reads cleanly. */
export function consoleTail(text: string, max = 4000): string {
  if (text.length <= max) return text;
  const cut = text.slice(-max);
  const nl = cut.indexOf('\n');
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}

/** The `nicmatrix-init: nic key=value…` facts (ifname, bus, pci, driver from sysfs). */
export function parseNicLine(text: string): Record<string, string> | undefined {
  const m = new RegExp(`^${INIT_PREFIX} nic (.*)$`, 'm').exec(text);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const kv of m[1]!.trim().split(/\s+/)) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/**
 * Why the guest failed, most specific first: the init's own FAILED line, a
 * kernel panic, QEMU's error, how QEMU ended; `stillRunning` when QEMU lives
 * on (a hang).
 */
export function diagnoseGuest(text: string, exit: QemuExit | null): string {
  const line = (re: RegExp) => re.exec(text)?.[1]?.trim();
  const initFailed = line(new RegExp(`^.*${INIT_PREFIX} FAILED: (.*)$`, 'm'));
  if (initFailed) {
    // A driver that cannot load its firmware refuses to bring the link up: that, not the failing command, is the cause.
    const firmware = [...new Set([...text.matchAll(/firmware: failed to load (\S+)/g)].map((m) => m[1]!))];
    const why =
      firmware.length > 0 ? ` (the driver could not load its firmware ${firmware.join(', ')}: the guest image has no such file)` : '';
    return `the guest init failed: ${initFailed}${why}`;
  }
  const panic = line(/Kernel panic - not syncing: (.*)$/m);
  if (panic) return `the guest kernel panicked: ${panic}`;
  const qemuErrors = [...text.matchAll(/^qemu-system-[\w-]+: (.*)$/gm)]
    .map((m) => m[1]!.trim())
    .filter((l) => !/^terminating on signal/.test(l));
  const how =
    exit === null ? 'QEMU is still running' : exit.signal ? `QEMU was killed by ${exit.signal}` : `QEMU exited with code ${exit.code}`;
  if (qemuErrors.length > 0) return `${how}: ${qemuErrors.slice(-2).join('; ')}`;
  const agentExit = line(new RegExp(`^${INIT_PREFIX} (agent exited with status \\d+)$`, 'm'));
  if (agentExit && exit !== null) return `${how} after the guest's ${agentExit}`;
  if (exit === null) {
    const last = text.trim().split('\n').pop()?.trim();
    return `${how} but the guest does not answer (hung?)${last ? `; last console line: ${last}` : '; the console is empty'}`;
  }
  return how;
}
