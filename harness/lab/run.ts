/** Runs the selected machines of a lab inventory, one after another, one run record per machine. */
import os from 'node:os';
import path from 'node:path';
import type { RunRecord } from '../../matrix/record.js';
import { allChecks } from '../checks/registry.js';
import type { Check } from '../checks/types.js';
import { NicmatrixError } from '../codec/errors.js';
import type { RunListener } from '../run/listener.js';
import { selectChecks } from '../run/plan.js';
import { writeRecord } from '../run/record-file.js';
import { runMatrix } from '../run/runner.js';
import { hostMatches, machineTargets, type LabInventory, type LabMachine } from './inventory.js';

export interface LabRunOptions {
  inventory: LabInventory;
  machines: LabMachine[];
  /** Records go to `<outDir>/<machine>.json` (pcaps beside them). */
  outDir: string;
  /** Check globs from the command line; they override the inventory's. */
  checkGlobs: string[];
  seed: number;
  jobs: number;
  argv: string[];
  signal: AbortSignal;
  listener: RunListener;
  /** Run machines whose `host` guard names another host. */
  anyHost?: boolean;
  hostname?: string;
  log(line: string): void;
}

export interface PlannedMachine {
  machine: LabMachine;
  targets: string[];
  checks: Check[];
  globs: string[];
  file: string;
}

/** What would run: every machine's targets and checks, resolved before anything starts (a bad glob stops it all). */
export function planLab(opts: Pick<LabRunOptions, 'inventory' | 'machines' | 'outDir' | 'checkGlobs'>): PlannedMachine[] {
  return opts.machines.map((machine) => {
    const globs = opts.checkGlobs.length > 0 ? opts.checkGlobs : (machine.checks ?? opts.inventory.checks ?? []);
    const { checks, unmatched } = selectChecks(allChecks(), globs);
    if (unmatched.length > 0) {
      const where =
        opts.checkGlobs.length > 0
          ? '--checks'
          : machine.checks
            ? `${opts.inventory.file}: machine ${machine.name}: checks`
            : `${opts.inventory.file}: checks`;
      throw new NicmatrixError(
        'USAGE',
        `${where}: ${unmatched.join(', ')} matches no check; known: ${allChecks()
          .map((c) => c.id)
          .join(', ')}`,
      );
    }
    return { machine, targets: machineTargets(machine), checks, globs, file: path.join(opts.outDir, `${machine.name}.json`) };
  });
}

export interface LabOutcome {
  records: { machine: string; file: string; record: RunRecord }[];
  skipped: { machine: string; reason: string }[];
}

export async function runLab(opts: LabRunOptions): Promise<LabOutcome> {
  const hostname = opts.hostname ?? os.hostname();
  const outcome: LabOutcome = { records: [], skipped: [] };
  for (const plan of planLab(opts)) {
    const { machine } = plan;
    if (opts.signal.aborted) break;
    if (!opts.anyHost && !hostMatches(machine, hostname)) {
      const reason = `its host is ${machine.host}, this is ${hostname} (--any-host runs it anyway)`;
      outcome.skipped.push({ machine: machine.name, reason });
      opts.log(`lab: machine ${machine.name} skipped: ${reason}`);
      continue;
    }
    opts.log(
      `lab: machine ${machine.name} [${machine.labels.join(', ')}]: ${plan.targets.join(', ')} × ${plan.checks.length} check(s) → ${plan.file}`,
    );
    const record = await runMatrix({
      targets: plan.targets,
      checks: plan.checks,
      checkGlobs: plan.globs,
      seed: opts.seed,
      jobs: opts.jobs,
      out: plan.file,
      argv: opts.argv,
      signal: opts.signal,
      listener: opts.listener,
    });
    // Which lab machine ran each target travels with the record (target evidence is open-ended).
    const lab = { inventory: opts.inventory.name, file: opts.inventory.file, machine: machine.name, labels: machine.labels };
    for (const t of record.targets) t.evidence = { ...t.evidence, lab };
    await writeRecord(plan.file, record);
    outcome.records.push({ machine: machine.name, file: plan.file, record });
  }
  return outcome;
}
