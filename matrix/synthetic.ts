/**
 * Deterministic synthetic run records for tests and the site benchmark:
 * N devices × M checks × K kernels, mostly passing, with some failures,
 * unsupported features and injected pass → fail regressions. Pure.
 */
import { RUN_RECORD_SCHEMA, type FeatureSnapshot, type ResultRecord, type RunRecord, type Status, type TargetRecord } from './record.js';

export interface SyntheticOptions {
  devices: number;
  checks: number;
  kernels: number;
  /** Variants per check (default 2: offload-on, offload-off). */
  variants?: number;
  /** Targets per run record (default 10). */
  devicesPerRun?: number;
  seed?: number;
}

const FAMILIES: Record<string, string[]> = {
  'tx-csum': [
    'ipv4-tcp',
    'ipv4-udp',
    'ipv6-tcp',
    'ipv6-udp',
    'generic',
    'odd-length',
    'min-frame',
    'udp-zero',
    'ipv4-options',
    'ipv6-exthdr',
  ],
  'rx-csum': [
    'ipv4-tcp-good',
    'ipv4-tcp-bad',
    'ipv4-udp-good',
    'ipv4-udp-bad',
    'ipv6-tcp-good',
    'ipv6-tcp-bad',
    'ipv6-udp-good',
    'ipv6-udp-bad',
  ],
  frag: ['ipv4-in-order', 'ipv4-out-of-order', 'ipv4-duplicate', 'ipv4-overlap', 'ipv6-in-order', 'ipv6-out-of-order', 'ipv6-overlap'],
  zc: ['sendfile-0', 'sendfile-1', 'sendfile-page', 'sendfile-large', 'msg-zerocopy', 'mutate-sendfile', 'mutate-zerocopy'],
};
const QEMU_MODELS: [string, string][] = [
  ['e1000', 'e1000'],
  ['virtio-net-pci', 'virtio_net'],
  ['rtl8139', '8139cp'],
  ['i82559er', 'e100'],
  ['tulip', 'tulip'],
  ['e1000e', 'e1000e'],
  ['vmxnet3', 'vmxnet3'],
  ['pcnet', 'pcnet32'],
];
const PCI_DRIVERS = ['igb', 'ixgbe', 'r8169', 'tg3', 'bnx2', 'mlx5_core', 'i40e', 'ice', 'atlantic', 'sfc'];

/** Small seeded PRNG (mulberry32): the same seed gives the same records. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` stable check IDs drawn round-robin from the four families. */
export function syntheticChecks(count: number): string[] {
  const names = Object.entries(FAMILIES).flatMap(([f, ids]) => ids.map((id) => `${f}/${id}`));
  const out: string[] = [];
  for (let i = 0; out.length < count; i++)
    out.push(i < names.length ? names[i]! : `${names[i % names.length]}-${Math.floor(i / names.length)}`);
  return out;
}

export function featureSnapshot(on: Record<string, boolean>): FeatureSnapshot {
  const snap: FeatureSnapshot = {};
  for (const [name, active] of Object.entries(on)) snap[name] = { active, fixed: false, requested: active };
  return snap;
}

function syntheticTarget(i: number, rnd: () => number): Omit<TargetRecord, 'kernel' | 'results'> {
  const on = (p: number): boolean => rnd() < p;
  const features = featureSnapshot({
    'rx-checksumming': on(0.9),
    'tx-checksumming': true,
    'tx-checksum-ipv4': on(0.5),
    'tx-checksum-ipv6': on(0.4),
    'tx-checksum-ip-generic': on(0.5),
    'scatter-gather': on(0.85),
    'tcp-segmentation-offload': on(0.7),
    'generic-receive-offload': true,
  });
  const hex = (n: number): string => n.toString(16).padStart(4, '0');
  if (i % 3 === 0) {
    const [model, driver] = QEMU_MODELS[(i / 3) % QEMU_MODELS.length]!;
    const gen = Math.floor(i / 3 / QEMU_MODELS.length);
    return {
      spec: `qemu:${model}`,
      kind: 'qemu',
      device: { model: gen ? `${model}-${gen}` : model, description: `QEMU ${model} (#${gen})` },
      driver: { name: driver, version: '', firmware: '', bus: `0000:00:${hex(3 + (i % 20)).slice(2)}.0` },
      features,
      dimensions: { accel: 'tcg' },
      evidence: {},
    };
  }
  const driver = PCI_DRIVERS[i % PCI_DRIVERS.length]!;
  return {
    spec: `phys:eth${i},peer${i}`,
    kind: 'phys',
    device: { pciId: `8086:${hex(0x1000 + i)}`, description: `Synthetic NIC ${i} (${driver})` },
    driver: { name: driver, version: '5.0.0', firmware: `${1 + (i % 4)}.${i % 7}`, bus: `0000:${hex(i).slice(2)}:00.0` },
    features,
    dimensions: {},
    evidence: {},
  };
}

function verdict(rnd: () => number, regressedAt: number | undefined, kernelIdx: number): [Status, string] {
  if (regressedAt !== undefined && kernelIdx >= regressedAt) return ['fail', 'peer saw a bad L4 checksum (0x1234, expected 0xbeef)'];
  const r = rnd();
  if (r < 0.03) return ['fail', 'peer saw a bad L4 checksum (0x0000, expected 0xffff)'];
  if (r < 0.1) return ['unsupported', 'feature [fixed] off; software fallback verified'];
  if (r < 0.11) return ['error', 'agent timed out after 30000 ms'];
  if (r < 0.14) return ['skip', 'not applicable on this link'];
  return ['pass', ''];
}

/** The synthetic runs: one record per kernel and group of `devicesPerRun` devices. */
export function syntheticRuns(opts: SyntheticOptions): RunRecord[] {
  const seed = opts.seed ?? 1;
  const rnd = prng(seed);
  const variants = ['offload-on', 'offload-off', 'mtu-9000', 'vlan'].slice(0, opts.variants ?? 2);
  const checks = syntheticChecks(opts.checks);
  const kernels = Array.from({ length: opts.kernels }, (_, k) => `6.${k + 1}.0-nm`);
  const targets = Array.from({ length: opts.devices }, (_, i) => syntheticTarget(i, rnd));
  // About 2% of cells regress from some kernel on: the matrix must flag them.
  const regressions = new Map<string, number>();
  for (let d = 0; d < opts.devices; d++) {
    for (const c of checks) if (rnd() < 0.02) regressions.set(`${d}|${c}`, 1 + Math.floor(rnd() * Math.max(1, opts.kernels - 1)));
  }
  const perRun = opts.devicesPerRun ?? 10;
  const runs: RunRecord[] = [];
  const base = Date.UTC(2025, 0, 1);
  for (const [k, kernel] of kernels.entries()) {
    for (let g = 0; g * perRun < targets.length; g++) {
      const n = runs.length;
      const start = new Date(base + (k * 24 + g) * 3_600_000);
      const group = targets.slice(g * perRun, (g + 1) * perRun).map((t, j): TargetRecord => {
        const d = g * perRun + j;
        const results = checks.flatMap((check) =>
          variants.map((variant): ResultRecord => {
            const [status, message] = verdict(rnd, regressions.get(`${d}|${check}`), k);
            const evidence = { seed: seed * 1000 + n, counters: { nstat: { UdpInDatagrams: Math.floor(rnd() * 100) } } };
            return { check, variant, status, durationMs: Math.floor(rnd() * 500), message, evidence };
          }),
        );
        return { ...t, kernel, results };
      });
      runs.push({
        schema: RUN_RECORD_SCHEMA,
        id: `00000000-0000-4000-8000-${(seed * 100000 + n).toString(16).padStart(12, '0')}`,
        startedAt: start.toISOString(),
        finishedAt: new Date(start.getTime() + 600_000).toISOString(),
        tool: { name: 'nicmatrix', version: '0.1.0' },
        host: { hostname: `lab${g}`, kernel, arch: 'x86_64', cpus: 2, memoryBytes: 24 * 2 ** 30, os: 'Debian 12' },
        invocation: { argv: ['run'], checks: ['*'], seed: seed * 1000 + n },
        targets: group,
      });
    }
  }
  return runs;
}
