/** `nicmatrix qualify`: run what a qualification profile needs on one target (or take a run record) and write the report. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRecord } from '../../../matrix/migrate.js';
import { parseProfile, SHIPPED_PROFILES, shippedProfile, type Profile } from '../../../matrix/profile.js';
import { checksNeeded, judgeTarget, selectTarget } from '../../../matrix/qualify.js';
import { slug } from '../../../matrix/identity.js';
import { writeFiles } from '../../../reports/files.js';
import { qualificationFiles, qualificationReport } from '../../../reports/qualification/index.js';
import { allChecks } from '../../checks/registry.js';
import type { Check } from '../../checks/types.js';
import { interruptSignal } from '../../sys/cleanup.js';
import { NicmatrixError, unreadableFile } from '../../codec/errors.js';
import { addToStore, checkTargetSpec, parseSeed, progressFor, STORE_OPTIONS_HELP } from './shared.js';
import { toolVersion } from '../../sys/paths.js';
import { runMatrix } from '../../run/runner.js';
import { TARGET_SPEC_HELP } from '../../../drivers/spec.js';
import { globMatcher } from '../../../matrix/profile.js';
import { defineCommand } from './command.js';

/** A shipped profile by name, else a profile file. */
export function loadProfile(arg: string): Profile {
  const shipped = shippedProfile(arg);
  if (shipped) return shipped;
  if (!existsSync(arg)) {
    throw new NicmatrixError(
      'USAGE',
      `--profile ${arg}: expected a shipped profile (${SHIPPED_PROFILES.join(', ')}) or a profile file, found neither`,
    );
  }
  let text: string;
  try {
    text = readFileSync(arg, 'utf8');
  } catch (e) {
    throw unreadableFile(`--profile ${arg}`, arg, e);
  }
  return parseProfile(text, arg);
}

/** The registry's checks the profile needs, each limited to the variants it asks for ("nothing more"). */
export function plannedChecks(profile: Profile, all: readonly Check[]): Check[] {
  const need = checksNeeded(
    profile,
    all.map((c) => c.id),
  );
  return all
    .filter((c) => need.has(c.id))
    .map((c) => {
      const globs = need.get(c.id);
      if (!globs) return c;
      const wanted = globMatcher(globs);
      return { ...c, variants: (link, features) => c.variants(link, features).filter((v) => wanted(v.name)) };
    });
}

function readRecordFile(file: string): { text: string; sha256: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw unreadableFile(`${file} (the run record)`, file, e);
  }
  return { text: bytes.toString('utf8'), sha256: createHash('sha256').update(bytes).digest('hex') };
}

export const command = defineCommand({
  usage: [
    'usage: nicmatrix qualify --profile NAME|FILE --target SPEC [--out DIR] [--seed N] [--store PATH | --no-store]',
    '       nicmatrix qualify --profile NAME|FILE --from-run FILE [--target SPEC] [--out DIR]',
    '',
    `  --profile P     ${SHIPPED_PROFILES.join(', ')} (shipped), or a profile file (JSON, schema nicmatrix.profile/1)`,
    `  --target SPEC   the device: ${TARGET_SPEC_HELP}; runs only the checks and variants the profile needs`,
    '  --from-run FILE judge an existing run record instead of running (--target picks one of its targets)',
    '  --out DIR       where report.html, report.json (and run.json) go (default: out/qualification/<profile>-<target>-<time>)',
    '  --seed N        seed for every random choice (default: random, printed)',
    ...STORE_OPTIONS_HELP,
    '  --verbose       print every check log line',
    '',
    'Exit status: 0 the level is met, 1 it is not, 2 harness errors (some verdicts unknown) or usage errors.',
  ].join('\n'),
  options: {
    profile: { type: 'string' },
    target: { type: 'string' },
    'from-run': { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    store: { type: 'string' },
    'no-store': { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
  async run({ values }, io) {
    if (values.profile === undefined) throw new NicmatrixError('USAGE', `--profile: required (${SHIPPED_PROFILES.join(', ')} or a file)`);
    const profile = loadProfile(values.profile);
    const fromRun = values['from-run'];
    const spec = values.target;
    const available = allChecks();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let recordFile: string;
    if (fromRun === undefined) {
      if (spec === undefined)
        throw new NicmatrixError('USAGE', 'qualify: give --target SPEC to run, or --from-run FILE to judge an existing run record');
      await checkTargetSpec(spec);
      const out = values.out ?? path.join('out', 'qualification', `${profile.name}-${slug(spec)}-${stamp}`);
      recordFile = path.join(out, 'run.json');
      const checks = plannedChecks(profile, available);
      io.err(
        `qualify: profile ${profile.name} needs ${checks.length} check(s): ${checks.map((c) => c.id).join(', ') || 'none available in this version'}`,
      );
      await runMatrix({
        targets: [spec],
        checks,
        checkGlobs: checks.map((c) => c.id),
        seed: parseSeed(values.seed),
        jobs: 1,
        out: recordFile,
        argv: process.argv.slice(2),
        signal: interruptSignal,
        listener: progressFor(io, Boolean(values.verbose)),
      });
      if (interruptSignal.aborted) {
        io.err(`nicmatrix qualify: interrupted; no report, the verdicts so far are in ${recordFile}`);
        return 130;
      }
      addToStore(values, [recordFile], io, (f) => `qualify: ${f}`);
    } else {
      recordFile = fromRun;
    }
    const { text, sha256 } = readRecordFile(recordFile);
    const record = parseRecord(text, recordFile);
    const target = selectTarget(record, recordFile, spec);
    const qualification = judgeTarget(
      profile,
      target,
      available.map((c) => c.id),
    );
    const report = qualificationReport({
      profile,
      qualification,
      record,
      target,
      recordFile,
      recordSha256: sha256,
      generatedAt: new Date().toISOString(),
      toolVersion,
    });
    const outDir =
      values.out ??
      (fromRun === undefined
        ? path.dirname(recordFile)
        : path.join('out', 'qualification', `${profile.name}-${slug(target.spec)}-${stamp}`));
    writeFiles(outDir, qualificationFiles(report));
    for (const j of qualification.requirements) io.err(`qualify: ${j.verdict.toUpperCase().padEnd(14)} ${j.id}: ${j.why}`);
    io.err(`qualify: report ${path.join(outDir, 'report.html')} and report.json; run record ${recordFile} (sha256 ${sha256})`);
    io.out(report.headline);
    if (qualification.level.harnessErrors > 0) return 2;
    return qualification.level.met ? 0 : 1;
  },
});
