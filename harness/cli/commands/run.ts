import { TARGET_SPEC_HELP } from '../../../drivers/spec.js';
import { TARGET_SETS, targetSet } from '../../../drivers/target-sets.js';
import { sweepStale } from '../../../drivers/sweep.js';
import { exitCodeFor, type RunRecord } from '../../../matrix/record.js';
import { allChecks } from '../../checks/registry.js';
import { interruptSignal } from '../../sys/cleanup.js';
import { NicmatrixError } from '../../codec/errors.js';
import { DEFAULT_TARGETS, defaultRecordPath } from '../../run/defaults.js';
import { selectChecks } from '../../run/plan.js';
import { runMatrix } from '../../run/runner.js';
import { defineCommand } from './command.js';
import { addToStore, checkTargetSpec, parseJobs, parseSeed, progressFor, wholeNumber } from './shared.js';

/**
 * `--complete-ok`: 0 when every target was set up and ran, 2 when one could
 * not be; cells the harness could not judge (error) are named, not hidden.
 */
export function completeExitCode(record: Pick<RunRecord, 'targets'>, say: (line: string) => void): 0 | 2 {
  const unset = record.targets.filter((t) => t.setupError);
  for (const t of unset) say(`${t.spec} could not be set up: [${t.setupError!.code}] ${t.setupError!.message}`);
  const errors = record.targets.flatMap((t) =>
    t.results.filter((r) => r.status === 'error').map((r) => `${t.spec} ${r.check} [${r.variant}]`),
  );
  if (errors.length > 0)
    say(
      `${errors.length} cell(s) the harness could not judge (error, shown as inconclusive): ${errors.slice(0, 10).join(', ')}${errors.length > 10 ? ', …' : ''}`,
    );
  return unset.length > 0 ? 2 : 0;
}

export const command = defineCommand({
  usage: [
    'usage: nicmatrix run [--target SPEC]… [--target-set NAME]… [--checks GLOB]… [--out FILE] [--jobs N] [--seed N] [--verbose]',
    '',
    `  --target SPEC   ${TARGET_SPEC_HELP}; repeatable (default: lo, veth and every QEMU model)`,
    `  --target-set NAME  a named set of targets, repeatable: ${TARGET_SETS.map((t) => `${t.name} (${t.description})`).join('; ')}`,
    '  --checks GLOB   check IDs or families, e.g. tx-csum/* ; repeatable (default: all)',
    '  --out FILE      run record path (default: out/runs/run-<time>.json); pcaps go to FILE minus .json plus .pcap/',
    '  --jobs N        targets run at once (default: one per core)',
    '  --seed N        seed for every random choice (default: random, printed)',
    '  --repeat N      run every check variant N times; each attempt is kept, attempts that disagree are flaky',
    '  --retry-failed K  run a failed variant again, up to K more times (a failure whose retry passed is flaky)',
    '  --store PATH    matrix store the record is added to (default: .nicmatrix/matrix.db)',
    '  --no-store      do not add the record to a store',
    '  --verbose       print every check log line',
    '  --complete-ok   exit 0 once every target ran, whatever its verdicts (failures are findings; cells in error are counted',
    '                  and named); still 2 when a target could not be set up (the main job and nightly labs use it)',
    '  --lab FILE [--label L]…  run a lab inventory instead, one record per machine in --out DIR (see nicmatrix help lab)',
  ].join('\n'),
  options: {
    target: { type: 'string', multiple: true },
    'target-set': { type: 'string', multiple: true },
    checks: { type: 'string', multiple: true },
    out: { type: 'string' },
    jobs: { type: 'string' },
    seed: { type: 'string' },
    repeat: { type: 'string' },
    'retry-failed': { type: 'string' },
    store: { type: 'string' },
    'no-store': { type: 'boolean' },
    verbose: { type: 'boolean' },
    'complete-ok': { type: 'boolean' },
    lab: { type: 'string' },
    label: { type: 'string', multiple: true },
  },
  async run({ values }, io) {
    const { lab } = values;
    if (lab !== undefined) return (await import('./lab.js')).runLabCommand({ ...values, lab }, io);
    if (values.label !== undefined) throw new NicmatrixError('USAGE', '--label: only with --lab FILE');
    const sets = (values['target-set'] ?? []).flatMap((name) => targetSet(name));
    const given = [...(values.target ?? []), ...sets];
    const targets = given.length > 0 ? [...new Set(given)] : [...DEFAULT_TARGETS];
    for (const t of targets) await checkTargetSpec(t);
    const globs = values.checks ?? [];
    const { checks, unmatched } = selectChecks(allChecks(), globs);
    if (unmatched.length > 0)
      throw new NicmatrixError(
        'USAGE',
        `--checks ${unmatched.join(', ')}: matches no check; known: ${allChecks()
          .map((c) => c.id)
          .join(', ')}`,
      );
    const jobs = parseJobs(values.jobs);
    const seed = parseSeed(values.seed);
    const repeat = wholeNumber('repeat', values.repeat, 1, 1);
    const retryFailed = wholeNumber('retry-failed', values['retry-failed'], 0, 0);
    const out = values.out ?? defaultRecordPath();
    await sweepStale((line) => io.err(`nicmatrix run: ${line}`));
    const listener = progressFor(io, Boolean(values.verbose));
    const record = await runMatrix({
      targets,
      checks,
      checkGlobs: globs,
      seed,
      jobs,
      out,
      argv: process.argv.slice(2),
      signal: interruptSignal,
      listener,
      repeat,
      retryFailed,
    });
    if (interruptSignal.aborted) {
      io.err(`nicmatrix run: interrupted; the verdicts so far are in ${out}`);
      return 130;
    }
    addToStore(values, [out], io, () => 'run record');
    if (!values['complete-ok']) return exitCodeFor(record);
    return completeExitCode(record, (line) => io.err(`nicmatrix run: ${line}`));
  },
});
