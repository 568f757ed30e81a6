/**
 * The compatibility matrix from run records: devices × checks, each cell the
 * latest verdict per kernel with its history, regressions and "claimed but
 * failed" flagged, and catalogue devices nobody ran kept as "not yet
 * tested" rows. Pure: records in, matrix out.
 */
import { SEED_CATALOGUE, type CatalogueDevice } from './catalogue.js';
import { claimed } from './claims.js';
import { combine, judgeHistory, type KernelVerdict, type Observation, type Regression, type VariantResult } from './history.js';
import { compareKernels, deviceKey, familyOf, orderChecks, slug } from './identity.js';
import { cellLevel, type Level } from './levels.js';
import type { FeatureSnapshot, ResultRecord, RunRecord, Status, TargetKind } from './record.js';

/** A matrix row. Untested rows come from the catalogue and have no cells. */
export interface DeviceRow {
  key: string;
  /** File-name-safe unique form of `key`. */
  slug: string;
  description: string;
  model?: string;
  pciId?: string;
  driver: string;
  driverVersion: string;
  firmware: string;
  kinds: TargetKind[];
  specs: string[];
  /** Kernels this device ran on, in version order. */
  kernels: string[];
  /** Feature snapshot of the device's latest run. */
  features: FeatureSnapshot;
  /** Targets that could not be brought up. */
  setupErrors: { runId: string; kernel: string; code: string; message: string }[];
  untested: boolean;
  note?: string;
}

/** One device × check. `status` is the verdict on the newest kernel it ran on. */
export interface Cell {
  device: string;
  check: string;
  /** Support level on the newest kernel (`levels.ts`), shown as the cell's word and colour. */
  level: Level;
  /** One line: which variant decided the level, and the finding. */
  note: string;
  status: Status;
  kernel: string;
  perKernel: KernelVerdict[];
  /** Every observation, oldest first. */
  history: Observation[];
  regressions: Regression[];
  /** The headline verdict is a fail that follows a pass. */
  regressed: boolean;
  claimed: boolean | null;
  claimedButFailed: boolean;
}

export interface RunSummary {
  id: string;
  startedAt: string;
  finishedAt: string;
  hostname: string;
  targets: string[];
  counts: Record<Status, number>;
}

export interface Matrix {
  devices: DeviceRow[];
  /** All check IDs, grouped by family then sorted. */
  checks: string[];
  families: { name: string; checks: string[] }[];
  kernels: string[];
  /** `cells[deviceKey][check]`; a missing cell means the device never ran that check. */
  cells: Record<string, Record<string, Cell>>;
  runs: RunSummary[];
}

function countStatuses(results: readonly ResultRecord[], into: Record<Status, number>): void {
  for (const r of results) into[r.status]++;
}

/** Builds the matrix. Records are taken in any order; time comes from `finishedAt`. */
export function aggregate(records: readonly RunRecord[], catalogue: readonly CatalogueDevice[] = SEED_CATALOGUE): Matrix {
  const sorted = records.slice().sort((a, b) => a.finishedAt.localeCompare(b.finishedAt) || a.id.localeCompare(b.id));
  const rows = new Map<string, DeviceRow>();
  const histories = new Map<string, Map<string, Observation[]>>();
  const runs: RunSummary[] = [];
  for (const rec of sorted) {
    const counts: Record<Status, number> = { pass: 0, fail: 0, unsupported: 0, skip: 0, error: 0 };
    for (const t of rec.targets) {
      countStatuses(t.results, counts);
      const key = deviceKey(t);
      let row = rows.get(key);
      if (!row) {
        row = {
          key,
          slug: slug(key),
          description: t.device.description,
          model: t.device.model,
          pciId: t.device.pciId,
          driver: t.driver.name,
          driverVersion: t.driver.version,
          firmware: t.driver.firmware,
          kinds: [],
          specs: [],
          kernels: [],
          features: {},
          setupErrors: [],
          untested: false,
        };
        rows.set(key, row);
        histories.set(key, new Map());
      }
      // Records are in time order, so the last one seen describes the device now.
      Object.assign(row, { description: t.device.description, driverVersion: t.driver.version, features: t.features });
      if (!row.kinds.includes(t.kind)) row.kinds.push(t.kind);
      if (!row.specs.includes(t.spec)) row.specs.push(t.spec);
      if (!row.kernels.includes(t.kernel)) row.kernels.push(t.kernel);
      if (t.setupError) row.setupErrors.push({ runId: rec.id, kernel: t.kernel, ...t.setupError });
      const byCheck = new Map<string, ResultRecord[]>();
      for (const r of t.results) {
        const list = byCheck.get(r.check);
        if (list) list.push(r);
        else byCheck.set(r.check, [r]);
      }
      const deviceHistories = histories.get(key)!;
      for (const [check, results] of byCheck) {
        // The results are the variants (same fields): no copy of 240 000 of them for a large store.
        const variants: VariantResult[] = results;
        const obs: Observation = {
          runId: rec.id,
          finishedAt: rec.finishedAt,
          kernel: t.kernel,
          spec: t.spec,
          status: combine(results.map((r) => r.status)),
          claimed: claimed(check, t.features),
          variants,
          level: cellLevel({ check, kind: t.kind, features: t.features, variants }),
        };
        const list = deviceHistories.get(check);
        if (list) list.push(obs);
        else deviceHistories.set(check, [obs]);
      }
    }
    runs.push({
      id: rec.id,
      startedAt: rec.startedAt,
      finishedAt: rec.finishedAt,
      hostname: rec.host.hostname,
      targets: rec.targets.map((t) => t.spec),
      counts,
    });
  }

  const checkSet = new Set<string>();
  const kernelSet = new Set<string>();
  const cells: Record<string, Record<string, Cell>> = {};
  for (const [key, byCheck] of histories) {
    const row = rows.get(key)!;
    row.kernels.sort(compareKernels);
    row.kernels.forEach((k) => kernelSet.add(k));
    const deviceCells: Record<string, Cell> = {};
    for (const [check, history] of byCheck) {
      checkSet.add(check);
      const { perKernel, regressions } = judgeHistory(history);
      // A history holds one observation at least, so one kernel verdict at least.
      const head = perKernel[perKernel.length - 1]!;
      deviceCells[check] = {
        device: key,
        check,
        level: head.level,
        note: head.note,
        status: head.status,
        kernel: head.kernel,
        perKernel,
        history,
        regressions,
        regressed: head.regression,
        claimed: head.claimed,
        claimedButFailed: head.claimed === true && head.status === 'fail',
      };
    }
    cells[key] = deviceCells;
  }

  const testedDrivers = new Set([...rows.values()].map((r) => r.driver));
  const devices = [...rows.values()].sort(
    (a, b) => a.driver.localeCompare(b.driver) || a.description.localeCompare(b.description) || a.key.localeCompare(b.key),
  );
  for (const c of catalogue) {
    if (c.drivers.some((d) => testedDrivers.has(d))) continue;
    const key = `catalogue:${c.key}`;
    devices.push({
      key,
      slug: slug(key),
      description: c.description,
      pciId: c.pciId,
      driver: c.drivers.join('/'),
      driverVersion: '',
      firmware: '',
      kinds: [],
      specs: [],
      kernels: [],
      features: {},
      setupErrors: [],
      untested: true,
      note: c.note,
    });
  }
  const checks = orderChecks(checkSet);
  const families: { name: string; checks: string[] }[] = [];
  for (const c of checks) {
    const f = familyOf(c);
    const last = families[families.length - 1];
    if (last?.name === f) last.checks.push(c);
    else families.push({ name: f, checks: [c] });
  }
  return { devices, checks, families, kernels: [...kernelSet].sort(compareKernels), cells, runs };
}
