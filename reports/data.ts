/**
 * The matrix as plain data for downloads and the JSON report: every cell's
 * per-kernel verdicts and flags, no evidence (that stays in the run records).
 * Also its CSV form, one row per device × check × kernel. Pure.
 */
import type { Matrix } from '../matrix/aggregate.js';
import type { Level } from '../matrix/levels.js';
import type { Status } from '../matrix/record.js';
import { familyOf } from '../matrix/identity.js';
import { csvField } from './text.js';

export const MATRIX_DATA_SCHEMA = 'nicmatrix.matrix/1';

export interface MatrixData {
  schema: typeof MATRIX_DATA_SCHEMA;
  generatedAt: string;
  kernels: string[];
  checks: string[];
  devices: {
    key: string;
    description: string;
    model?: string;
    pciId?: string;
    driver: string;
    driverVersion: string;
    firmware: string;
    kernels: string[];
    untested: boolean;
    note?: string;
  }[];
  cells: {
    device: string;
    check: string;
    /** Support level on the newest kernel, and the one-line why. */
    level: Level;
    note: string;
    status: Status;
    kernel: string;
    regressed: boolean;
    claimed: boolean | null;
    claimedButFailed: boolean;
    perKernel: { kernel: string; level: Level; status: Status; runId: string; finishedAt: string; regression: boolean }[];
  }[];
  runs: Matrix['runs'];
}

export function matrixData(m: Matrix, generatedAt: string): MatrixData {
  return {
    schema: MATRIX_DATA_SCHEMA,
    generatedAt,
    kernels: m.kernels,
    checks: m.checks,
    devices: m.devices.map((d) => ({
      key: d.key,
      description: d.description,
      model: d.model,
      pciId: d.pciId,
      driver: d.driver,
      driverVersion: d.driverVersion,
      firmware: d.firmware,
      kernels: d.kernels,
      untested: d.untested,
      note: d.note,
    })),
    cells: m.devices.flatMap((d) =>
      Object.values(m.cells[d.key] ?? {}).map((c) => ({
        device: c.device,
        check: c.check,
        level: c.level,
        note: c.note,
        status: c.status,
        kernel: c.kernel,
        regressed: c.regressed,
        claimed: c.claimed,
        claimedButFailed: c.claimedButFailed,
        perKernel: c.perKernel.map(({ kernel, level, status, runId, finishedAt, regression }) => ({
          kernel,
          level,
          status,
          runId,
          finishedAt,
          regression,
        })),
      })),
    ),
    runs: m.runs,
  };
}

const CSV_HEADER = [
  'device',
  'description',
  'driver',
  'firmware',
  'pci_id',
  'model',
  'check',
  'family',
  'kernel',
  'level',
  'status',
  'regression',
  'claimed',
  'claimed_but_failed',
  'run_id',
  'finished_at',
];

/** One row per device × check × kernel; devices nobody ran get one `untested` row. */
export function matrixCsv(m: Matrix): string {
  const lines = [CSV_HEADER.join(',')];
  const fields = (values: (string | number | boolean | null | undefined)[]): string => values.map(csvField).join(',');
  // Kernels and runs repeat on thousands of rows: each is escaped once.
  const kernels = new Map(m.kernels.map((k) => [k, csvField(k)]));
  const runs = new Map<string, string>();
  for (const d of m.devices) {
    // The device's and the check's fields repeat on every kernel's row: escaped once.
    const id = fields([d.key, d.description, d.driver, d.firmware, d.pciId, d.model]);
    if (d.untested) lines.push(`${id},${fields(['', '', '', 'not-tested', 'untested', false, null, false, '', ''])}`);
    for (const check of m.checks) {
      const c = m.cells[d.key]?.[check];
      if (!c) continue;
      const head = `${id},${fields([check, familyOf(check)])},`;
      for (const k of c.perKernel) {
        // A run has one finishing time: its id is the key.
        let run = runs.get(k.runId);
        if (run === undefined) runs.set(k.runId, (run = `${csvField(k.runId)},${csvField(k.finishedAt)}`));
        // Level, status and the flags are fixed words that need no quoting.
        const claimed = k.claimed === null ? '' : k.claimed;
        lines.push(
          `${head}${kernels.get(k.kernel) ?? csvField(k.kernel)},${k.level},${k.status},${k.regression},${claimed},${k.claimed === true && k.status === 'fail'},${run}`,
        );
      }
    }
  }
  return lines.join('\r\n') + '\r\n';
}
