/**
 * Options of a `qemu:<model>[,key=value…]` target (pure). Keys:
 * - `kernel=PATH`: boot this kernel (bzImage or vmlinux) instead of Debian's;
 * - `modules=DIR`: its modules, as `make modules_install` lays them out
 *   (`…/lib/modules/VERSION`, with modules.dep); omit when all needed drivers are built in;
 * - `accel=auto|tcg|kvm` (default auto: KVM only when the probe shows it works);
 * - `vnet_hdr=off|on` (default off, see `backendOf`);
 * - `mem=MiB` (default 512), `boot_timeout=SECONDS` (default 60);
 * - `append=WORD[+WORD…]`: extra kernel command-line words (e.g. `append=e1000.debug=16`);
 * - `agent=node|native`: the guest's agent (default node; native is the static C one, no Node start-up).
 */
import type { AgentKind } from '../../harness/agent/native.js';
import { NicmatrixError } from '../../harness/codec/errors.js';

export type AccelChoice = 'auto' | 'tcg' | 'kvm';

export interface QemuOptions {
  kernel?: string;
  modules?: string;
  accel: AccelChoice;
  vnetHdr: boolean;
  memMiB: number;
  bootTimeoutMs: number;
  append: string[];
  agent: AgentKind;
}

/**
 * With 256 MiB a guest had ~128 MiB available and the zero-copy checks' tmpfs
 * file took up to half of it; five models' guests soft-locked in zc/* then.
 * Guest memory never touched costs the host nothing.
 */
export const DEFAULT_MEM_MIB = 512;
/** Generous against the 10 s target: two TCG guests booting on two loaded cores. */
export const DEFAULT_BOOT_TIMEOUT_MS = 60_000;

const KNOWN = ['kernel', 'modules', 'accel', 'vnet_hdr', 'mem', 'boot_timeout', 'append', 'agent'];

export function parseQemuOptions(spec: string, options: Record<string, string>): QemuOptions {
  const bad = (key: string, expected: string) =>
    new NicmatrixError('TARGET_SPEC', `target "${spec}": option ${key} expects ${expected}, found "${options[key]}"`);
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key))
      throw new NicmatrixError('TARGET_SPEC', `target "${spec}": unknown option "${key}"; expected one of: ${KNOWN.join(', ')}`);
  }
  const out: QemuOptions = {
    accel: 'auto',
    vnetHdr: false,
    memMiB: DEFAULT_MEM_MIB,
    bootTimeoutMs: DEFAULT_BOOT_TIMEOUT_MS,
    append: [],
    agent: 'node',
  };
  if (options.kernel !== undefined) {
    if (!options.kernel.startsWith('/')) throw bad('kernel', 'an absolute path to a bzImage or vmlinux');
    out.kernel = options.kernel;
  }
  if (options.modules !== undefined) {
    if (!/^\/.*\/lib\/modules\/[^/]+\/?$/.test(options.modules)) throw bad('modules', 'an absolute path ending in lib/modules/VERSION');
    if (out.kernel === undefined)
      throw new NicmatrixError('TARGET_SPEC', `target "${spec}": option modules= needs kernel= too (the modules must match the kernel)`);
    out.modules = options.modules.replace(/\/$/, '');
  }
  if (options.accel !== undefined) {
    if (!['auto', 'tcg', 'kvm'].includes(options.accel)) throw bad('accel', 'auto, tcg or kvm');
    out.accel = options.accel as AccelChoice;
  }
  if (options.vnet_hdr !== undefined) {
    if (options.vnet_hdr !== 'on' && options.vnet_hdr !== 'off') throw bad('vnet_hdr', 'on or off');
    out.vnetHdr = options.vnet_hdr === 'on';
  }
  if (options.mem !== undefined) {
    const n = Number(options.mem);
    if (!Number.isInteger(n) || n < 128 || n > 16384) throw bad('mem', 'a size in MiB between 128 and 16384');
    out.memMiB = n;
  }
  if (options.boot_timeout !== undefined) {
    const n = Number(options.boot_timeout);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw bad('boot_timeout', 'a number of seconds between 0 and 3600');
    out.bootTimeoutMs = Math.round(n * 1000);
  }
  if (options.append !== undefined) {
    const words = options.append.split('+').filter((w) => w !== '');
    if (words.length === 0 || words.some((w) => /\s|"/.test(w)))
      throw bad('append', 'kernel command-line words without spaces or quotes, joined by +');
    out.append = words;
  }
  if (options.agent !== undefined) {
    if (options.agent !== 'node' && options.agent !== 'native') throw bad('agent', 'node or native');
    out.agent = options.agent;
  }
  return out;
}

/**
 * The backend dimension. Default `tap` (vnet_hdr=off): QEMU then cannot hand
 * checksum work to the host kernel, so the peer sees exactly the bytes the
 * device model produced (e1000 context-descriptor checksums included).
 * `tap+vnet_hdr` lets virtio-net (and net_tx_pkt-based models) pass partial
 * checksums through, which tests the host, not the device.
 */
export function backendOf(opts: Pick<QemuOptions, 'vnetHdr'>): string {
  return opts.vnetHdr ? 'tap+vnet_hdr' : 'tap';
}
