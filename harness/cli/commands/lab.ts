/** `nicmatrix lab` (and `nicmatrix run --lab`): run a lab inventory's machines, one run record per machine. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { exitCodeFor } from '../../../matrix/record.js';
import { interruptSignal } from '../../sys/cleanup.js';
import { NicmatrixError, unreadableFile } from '../../codec/errors.js';
import { addToStore, checkTargetSpec, parseJobs, parseSeed, progressFor, STORE_OPTIONS_HELP } from './shared.js';
import { inventoryLabels, machineTargets, parseInventory, selectMachines, type LabInventory } from '../../lab/inventory.js';
import { planLab, runLab } from '../../lab/run.js';
import { type CommandIO, defineCommand, type OptionTable, type OptionValues } from './command.js';

export const DEFAULT_LAB_OUT = 'out/lab';

const LAB_OPTIONS = {
  lab: { type: 'string' },
  label: { type: 'string', multiple: true },
  machine: { type: 'string', multiple: true },
  out: { type: 'string' },
  checks: { type: 'string', multiple: true },
  seed: { type: 'string' },
  jobs: { type: 'string' },
  'any-host': { type: 'boolean' },
  'list-labels': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  store: { type: 'string' },
  'no-store': { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const satisfies OptionTable;

export function readInventory(file: string): LabInventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw unreadableFile(`--lab ${file} (the inventory)`, file, e);
  }
  return parseInventory(text, file);
}

/** The lab run behind both `nicmatrix lab` and `nicmatrix run --lab`. */
/** What `runLabCommand` reads: the lab command's options, and `--target`, which `run --lab` refuses beside them. */
export type LabValues = OptionValues<typeof LAB_OPTIONS> & { target?: string[] };

export async function runLabCommand(values: LabValues & { lab: string }, io: CommandIO): Promise<number> {
  if (values.target !== undefined)
    throw new NicmatrixError('USAGE', '--target and --lab: the inventory names the targets; give one or the other');
  const inventory = readInventory(values.lab);
  if (values['list-labels']) {
    io.out(JSON.stringify(inventoryLabels(inventory)));
    return 0;
  }
  const labels = values.label ?? [];
  const machines = selectMachines(inventory, labels, values.machine ?? []);
  if (machines.length === 0)
    throw new NicmatrixError('USAGE', `${inventory.file}: no machine matches --label ${labels.join(', ')} and --machine`);
  for (const m of machines) {
    for (const [i, t] of machineTargets(m).entries()) await checkTargetSpec(t, `${inventory.file}: machine ${m.name} target ${i}`);
  }
  const outDir = values.out ?? DEFAULT_LAB_OUT;
  const checkGlobs = values.checks ?? [];
  if (values['dry-run']) {
    for (const p of planLab({ inventory, machines, outDir, checkGlobs })) {
      io.out(
        `${p.machine.name} [${p.machine.labels.join(', ')}]${p.machine.host ? ` on ${p.machine.host}` : ''}: ${p.targets.join(' ')} × ${p.checks.map((c) => c.id).join(' ')} → ${p.file}`,
      );
    }
    return 0;
  }
  const jobs = parseJobs(values.jobs);
  const outcome = await runLab({
    inventory,
    machines,
    outDir,
    checkGlobs,
    seed: parseSeed(values.seed),
    jobs,
    argv: process.argv.slice(2),
    signal: interruptSignal,
    listener: progressFor(io, Boolean(values.verbose)),
    anyHost: Boolean(values['any-host']),
    log: (l) => io.err(l),
  });
  if (interruptSignal.aborted) {
    io.err(`nicmatrix lab: interrupted; the records so far are in ${outDir}`);
    return 130;
  }
  if (outcome.records.length === 0) {
    throw new NicmatrixError(
      'USAGE',
      `${inventory.file}: no selected machine may run on this host (${os.hostname()}): ${outcome.skipped.map((s) => `${s.machine}: ${s.reason}`).join('; ')}`,
    );
  }
  addToStore(
    values,
    outcome.records.map((r) => r.file),
    io,
    (f) => `lab: ${f}`,
  );
  for (const r of outcome.records) io.out(r.file);
  return outcome.records.reduce<number>((code, r) => Math.max(code, exitCodeFor(r.record)), 0);
}

export const command = defineCommand({
  usage: [
    'usage: nicmatrix lab --lab FILE [--label L]… [--machine NAME]… [--out DIR] [--checks GLOB]… [--seed N] [--jobs N]',
    '       nicmatrix lab --lab FILE --list-labels | --dry-run',
    '       (nicmatrix run --lab FILE [--label L]… [--out DIR] does the same)',
    '',
    '  --lab FILE      lab inventory (JSON, schema nicmatrix.lab/1): machines, their port pairs, labels, targets',
    '  --label L       run the machines carrying this label; repeatable (default: every machine)',
    '  --machine NAME  only this machine; repeatable',
    `  --out DIR       directory of the run records, one per machine: DIR/<machine>.json (default: ${DEFAULT_LAB_OUT})`,
    "  --checks GLOB   check IDs or families; overrides the inventory's; repeatable",
    '  --seed N        seed for every random choice (default: random, printed)',
    '  --jobs N        targets of one machine run at once (default: one per core)',
    '  --any-host      also run machines whose "host" names another host',
    '  --list-labels   print the labels as a JSON list (a CI matrix) and exit',
    '  --dry-run       print what each machine would run and exit',
    ...STORE_OPTIONS_HELP,
    '  --verbose       print every check log line',
    '',
    'Exit status: the worst of the machines: 0 all pass/unsupported/skip, 1 a check failed, 2 harness or usage errors.',
  ].join('\n'),
  options: LAB_OPTIONS,
  async run({ values }, io) {
    const { lab } = values;
    if (lab === undefined) throw new NicmatrixError('USAGE', '--lab FILE: required (the lab inventory)');
    return runLabCommand({ ...values, lab }, io);
  },
});
