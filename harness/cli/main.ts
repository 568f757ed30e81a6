/** `nicmatrix` entry: dispatches to one command module, loaded only when used (fast --help). */
import { cleanup, installSignalHandlers } from '../sys/cleanup.js';
import { describeError, isNicmatrixError } from '../codec/errors.js';
import { type Command, type CommandIO, parseCommandArgs } from './commands/command.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  doctor: { summary: 'check system prerequisites; --install fetches them', load: () => import('./commands/doctor.js') },
  targets: { summary: 'list what can be tested here', load: () => import('./commands/targets.js') },
  checks: { summary: 'list the checks with what each sends and what a pass proves', load: () => import('./commands/checks.js') },
  run: { summary: 'run checks on targets and write a run record', load: () => import('./commands/run.js') },
  ingest: { summary: 'add run records to the matrix store', load: () => import('./commands/ingest.js') },
  store: { summary: 'verify the matrix store, or rebuild it from the run records it keeps', load: () => import('./commands/store.js') },
  site: { summary: 'build the compatibility website', load: () => import('./commands/site.js') },
  report: { summary: 'JUnit, Markdown or JSON reports from the store or a run record', load: () => import('./commands/report.js') },
  qualify: {
    summary: 'judge a device against a qualification profile (baseline, offload, full) and write the report',
    load: () => import('./commands/qualify.js'),
  },
  lab: {
    summary: 'run a lab inventory: every machine matching --label, one run record per machine',
    load: () => import('./commands/lab.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: nicmatrix <command> [options]',
    '',
    'Qualifies network cards and their Linux drivers and publishes a compatibility matrix.',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'nicmatrix help <command>' for a command's options.",
    'Exit status: 0 all verdicts pass/unsupported/skip, 1 a check failed, 2 harness or usage error.',
  ].join('\n');
}

export function defaultIO(): CommandIO {
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    interactive: Boolean(process.stderr.isTTY) && !process.env.CI,
  };
}

export async function main(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    io.out(usage());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    const { toolVersion } = await import('../sys/paths.js');
    io.out(toolVersion);
    return 0;
  }
  if (name === 'help') return help(rest[0], io);
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`nicmatrix: unknown command "${name}"; expected one of: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  let command: Command;
  try {
    ({ command } = await entry.load());
  } catch (e) {
    io.err(`nicmatrix: the ${name} command is not available: ${describeError(e)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  let args;
  try {
    args = parseCommandArgs(command, joinNegativeValues(rest, command.options));
  } catch (e) {
    // Node's parser words its errors over several lines: the first says what is wrong.
    const what = describeError(e).split('\n')[0];
    io.err(`nicmatrix ${name}: error [USAGE]: ${what} (nicmatrix ${name} --help shows the options)`);
    return 2;
  }
  installSignalHandlers((line) => io.err(line));
  try {
    return await command.run(args, io);
  } catch (e) {
    const code = isNicmatrixError(e) ? e.code : 'INTERNAL';
    io.err(`nicmatrix ${name}: error [${code}]: ${describeError(e)}`);
    if (!isNicmatrixError(e) && e instanceof Error && e.stack) io.err(e.stack);
    return 2;
  } finally {
    for (const failure of await cleanup.runAll()) io.err(`nicmatrix: ${failure}`);
  }
}

/**
 * `--seed -5` as `--seed=-5`: Node's parser takes a value starting with a dash
 * for an option, so the command's own check, which names what it expects, never saw it.
 */
export function joinNegativeValues(args: readonly string[], options: Record<string, { type: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--([^=]+)$/.exec(arg);
    const next = args[i + 1];
    if (m && options[m[1]!]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

async function help(name: string | undefined, io: CommandIO): Promise<number> {
  const entry = name ? COMMANDS[name] : undefined;
  if (!entry) {
    io.out(usage());
    return name ? 2 : 0;
  }
  io.out((await entry.load()).command.usage);
  return 0;
}
