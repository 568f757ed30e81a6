/**
 * KernelCI KCIDB export (I/O schema v5.3): the kernel that ran is a checkout
 * and a build, every target × check × variant verdict a test with path
 * `nic.<device>.<family>.<case>.<variant>` (dots separate, `-` becomes `_`
 * in the family and case as KCIDB paths show them), the device identity in
 * `misc`. IDs are stable (origin + run id + target + check + variant), so
 * sending a report twice is harmless. Pure.
 */
import { NicmatrixError } from '../matrix/errors.js';
import { levelsOf } from '../matrix/levels.js';
import type { ResultRecord, RunRecord, Status, TargetRecord } from '../matrix/record.js';
import type { ReportInput, Reporter } from './types.js';

export const KCIDB_VERSION = { major: 5, minor: 3 } as const;

/** KCIDB's status words, highest priority first. */
export type KcidbStatus = 'FAIL' | 'ERROR' | 'MISS' | 'PASS' | 'DONE' | 'SKIP';

export interface KcidbOptions {
  /** The submitting CI system's name (KCIDB: `[a-z0-9_]+`). */
  origin?: string;
}

export interface KcidbReport {
  version: { major: 5; minor: 3 };
  checkouts: Record<string, unknown>[];
  builds: Record<string, unknown>[];
  tests: Record<string, unknown>[];
}

/** KCIDB allows at most this many characters of log excerpt. */
const MAX_EXCERPT = 16384;
const ORIGIN = /^[a-z0-9_]+$/;

/** One path component: KCIDB paths are `[a-zA-Z0-9_-]` words joined by dots. */
export function pathPart(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9_-]+/g, '_')
      .replace(/-/g, '_')
      .replace(/^_+|_+$/g, '') || 'x'
  );
}

/** The device word of a test path: QEMU model, else driver, else the target kind. */
export function deviceWord(t: TargetRecord): string {
  return pathPart(t.device.model ?? (t.driver.name || t.kind));
}

/** `nic.<device>.<family>.<case>.<variant>`, e.g. `nic.e1000.tx_csum.ipv6_udp.offload_on`. */
export function testPath(t: TargetRecord, r: ResultRecord): string {
  return ['nic', deviceWord(t), ...r.check.split('/').map(pathPart), pathPart(r.variant)].join('.');
}

/** nicmatrix verdicts in KCIDB words: a target that never came up did not run its tests (MISS). */
export function kcidbStatus(t: TargetRecord, r: ResultRecord): KcidbStatus {
  // `unsupported` ran and verified the software fallback: it passed (its level, `software`, goes in misc).
  const map: Record<Status, KcidbStatus> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', skip: 'SKIP', unsupported: 'PASS' };
  if (r.status === 'error' && t.setupError) return 'MISS';
  return map[r.status];
}

/** KCIDB architecture words (`[a-z0-9_]*`) from Node's names. */
export function architecture(nodeArch: string): string {
  const known: Record<string, string> = {
    x64: 'x86_64',
    aarch64: 'arm64',
    ppc64le: 'powerpc',
    ia32: 'i386',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'powerpc',
    s390x: 's390',
    riscv64: 'riscv',
  };
  return known[nodeArch] ?? nodeArch.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

const noNul = (s: string): string => s.replace(/\0/g, '\ufffd');
const excerpt = (s: string): string => {
  const clean = noNul(s);
  return clean.length <= MAX_EXCERPT ? clean : `${clean.slice(0, MAX_EXCERPT - 20)}… (cut)`;
};

function deviceMisc(t: TargetRecord): Record<string, unknown> {
  return {
    device: t.device.description,
    model: t.device.model,
    pci_id: t.device.pciId,
    driver: t.driver.name,
    driver_version: t.driver.version,
    firmware: t.driver.firmware,
    bus: t.driver.bus,
    target: t.spec,
    kind: t.kind,
    kernel: t.kernel,
    dimensions: t.dimensions,
  };
}

export function kcidbReport(runs: readonly RunRecord[], opts: KcidbOptions = {}): KcidbReport {
  const origin = opts.origin ?? 'nicmatrix';
  if (!ORIGIN.test(origin)) throw new NicmatrixError('USAGE', `KCIDB origin must match ${ORIGIN.source}, found "${origin}"`);
  const checkouts = new Map<string, Record<string, unknown>>();
  const builds = new Map<string, Record<string, unknown>>();
  const tests: Record<string, unknown>[] = [];
  for (const run of runs) {
    run.targets.forEach((t, ti) => {
      // A QEMU guest runs its own kernel: the kernel that ran the driver is the checkout under test.
      const kernel = t.kernel || run.host.kernel;
      const checkoutId = `${origin}:kernel-${pathPart(kernel)}`;
      if (!checkouts.has(checkoutId)) {
        checkouts.set(checkoutId, {
          id: checkoutId,
          origin,
          comment: noNul(`Linux ${kernel}`),
          valid: true,
          misc: { kernel_release: kernel },
        });
      }
      const arch = architecture(run.host.arch);
      const buildId = `${origin}:kernel-${pathPart(kernel)}-${arch}`;
      if (!builds.has(buildId)) {
        // The kernel booted and ran the tests, so its build is known good; nicmatrix did not build it.
        builds.set(buildId, {
          id: buildId,
          checkout_id: checkoutId,
          origin,
          architecture: arch,
          status: 'PASS',
          comment: noNul(`Linux ${kernel} (${arch})`),
          misc: { kernel_release: kernel },
        });
      }
      const levels = levelsOf(t);
      for (const r of t.results) {
        const level = levels.get(r.check);
        tests.push({
          id: `${origin}:${run.id}:${ti}:${r.check}:${r.variant}`,
          build_id: buildId,
          origin,
          path: testPath(t, r),
          status: kcidbStatus(t, r),
          duration: r.durationMs / 1000,
          comment: noNul(`${r.check} [${r.variant}] on ${t.device.description || t.spec}`),
          log_excerpt: excerpt(r.message),
          environment: {
            comment: noNul(`${run.host.hostname}: ${t.spec}`),
            misc: { host: run.host.hostname, host_kernel: run.host.kernel, os: run.host.os, target: t.spec },
          },
          misc: {
            ...deviceMisc(t),
            run_id: run.id,
            check: r.check,
            variant: r.variant,
            nicmatrix_status: r.status,
            nicmatrix_level: level?.level,
            nicmatrix_level_note: level?.note,
            seed: r.evidence.seed,
            started_at: run.startedAt,
          },
        });
      }
    });
  }
  return { version: { ...KCIDB_VERSION }, checkouts: [...checkouts.values()], builds: [...builds.values()], tests };
}

export const kcidbReporter: Reporter = {
  format: 'kcidb',
  extension: 'json',
  render(input: ReportInput): string {
    return JSON.stringify(kcidbReport(input.runs), null, 2) + '\n';
  },
};
