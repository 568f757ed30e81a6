/**
 * The run record: one JSON file per run, the interchange format between the
 * harness, CI artifacts, lab uploads and the matrix store. Pure types and
 * constants only; `matrix/run-record.schema.json` is the published schema.
 */

/** Bump the number on any incompatible change; the store migrates older ones. */
export const RUN_RECORD_SCHEMA = 'nicmatrix.run/1';
export const RUN_RECORD_SCHEMA_VERSION = 1;

export type Status = 'pass' | 'fail' | 'unsupported' | 'skip' | 'error';
export const STATUSES: readonly Status[] = ['pass', 'fail', 'unsupported', 'skip', 'error'];

export type TargetKind = 'lo' | 'veth' | 'qemu' | 'phys';

/** One `ethtool --json -k` entry. `fixed: true` means the driver does not let it change. */
export interface FeatureState {
  active: boolean;
  fixed: boolean | null;
  requested: boolean | null;
}
export type FeatureSnapshot = Record<string, FeatureState>;

/** What `ethtool -i` reports; `name` is the Linux driver that really bound. */
export interface DriverInfo {
  name: string;
  version: string;
  firmware: string;
  bus: string;
}

/** How the device is identified in the matrix (aggregation keys on these). */
export interface DeviceIdentity {
  /** QEMU device model (`e1000`, `virtio-net-pci`...) for qemu targets. */
  model?: string;
  /** `vendor:device[:subvendor:subdevice]` in lowercase hex, for PCI devices. */
  pciId?: string;
  /** Human description, e.g. "Intel 82540EM (QEMU)" or "veth pair". */
  description: string;
}

/** Evidence attached to one verdict. Open-ended: checks add their own facts. */
export interface Evidence {
  /** Seed of the random generator, so the run can be repeated exactly. */
  seed?: number;
  /** Feature snapshot at the time of this variant. */
  features?: FeatureSnapshot;
  /** Counter deltas over the variant: DUT `nstat` (kernel MIB), DUT `ethtool -S` (driver), peer `nstat`. */
  counters?: { nstat?: Record<string, number>; ethtool?: Record<string, number>; peerNstat?: Record<string, number> };
  /** Offending frames in hex (capped), each with why it was judged wrong. */
  frames?: { hex: string; reason: string }[];
  /** Pcap of the offending frames, path relative to the run record's directory. */
  pcap?: string;
  /** For an `error` verdict: the stable code of the harness error (`NicmatrixError.code`, matrix/errors.ts). */
  errorCode?: string;
  [key: string]: unknown;
}

export interface ResultRecord {
  /** Stable check ID, the matrix column, e.g. `tx-csum/ipv6-udp`. */
  check: string;
  /** Variant of the check, e.g. `offload-on`, `offload-off`. */
  variant: string;
  status: Status;
  durationMs: number;
  message: string;
  evidence: Evidence;
}

export interface TargetRecord {
  /** The target string as the user gave it (`veth`, `qemu:e1000`, `phys:a,b`). */
  spec: string;
  kind: TargetKind;
  device: DeviceIdentity;
  driver: DriverInfo;
  /** Kernel that ran the DUT's driver (the guest's for qemu targets). */
  kernel: string;
  /** `ethtool --json -k` of the DUT interface when the target came up. */
  features: FeatureSnapshot;
  /** Extra result dimensions, e.g. `{ accel: 'tcg', backend: 'tap' }`. */
  dimensions: Record<string, string>;
  /** Set when the target could not be brought up; its results are then `error`. */
  setupError?: { code: string; message: string };
  /** Target-level evidence: console log tail, setup timings. */
  evidence: Record<string, unknown>;
  results: ResultRecord[];
}

export interface HostInfo {
  hostname: string;
  kernel: string;
  arch: string;
  cpus: number;
  memoryBytes: number;
  os: string;
}

export interface RunRecord {
  schema: typeof RUN_RECORD_SCHEMA;
  /** Unique id of the run (UUID). */
  id: string;
  startedAt: string;
  finishedAt: string;
  tool: { name: 'nicmatrix'; version: string };
  host: HostInfo;
  invocation: { argv: string[]; checks: string[]; seed: number };
  targets: TargetRecord[];
}

/** Exit status of a run: 0 all good, 1 some check failed, 2 harness errors. */
export function exitCodeFor(record: Pick<RunRecord, 'targets'>): 0 | 1 | 2 {
  let code: 0 | 1 | 2 = 0;
  for (const t of record.targets) {
    for (const r of t.results) {
      if (r.status === 'error') return 2;
      if (r.status === 'fail') code = 1;
    }
  }
  return code;
}
