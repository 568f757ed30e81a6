import { execa } from 'execa';
import { NicmatrixError } from '../codec/errors.js';

export interface RunOptions {
  /** Run inside this network namespace (ip netns exec). */
  netns?: string;
  /** Kill the command after this many ms (default 30 s). */
  timeoutMs?: number;
  /** Data for standard input. */
  input?: string | Uint8Array;
  /** Do not throw on a non-zero exit; the caller inspects `exitCode`. */
  reject?: boolean;
  signal?: AbortSignal;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  command: string;
}

/** Default limit for one system command: none of ours should take longer. */
export const COMMAND_TIMEOUT_MS = 30_000;

/** Runs a system command (optionally in a netns); errors name the command and its stderr. */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, file, ...args]] : [file, [...args]];
  const command = [cmd, ...argv].join(' ');
  let result;
  try {
    result = await execa(cmd, argv, {
      reject: false,
      timeout: opts.timeoutMs ?? COMMAND_TIMEOUT_MS,
      input: opts.input,
      stdin: opts.input === undefined ? 'ignore' : undefined,
      cancelSignal: opts.signal,
      env: { LC_ALL: 'C' },
      stripFinalNewline: true,
    });
  } catch (e) {
    throw new NicmatrixError('COMMAND_FAILED', `could not start \`${command}\``, { cause: e });
  }
  if (result.failed && (result.timedOut || result.isCanceled || result.exitCode === undefined)) {
    const why = result.timedOut
      ? `timed out after ${opts.timeoutMs ?? COMMAND_TIMEOUT_MS} ms`
      : result.isCanceled
        ? 'was interrupted'
        : result.shortMessage;
    throw new NicmatrixError(result.timedOut ? 'TIMEOUT' : 'COMMAND_FAILED', `\`${command}\` ${why}`, {
      details: { command, stderr: String(result.stderr ?? '') },
    });
  }
  const out: RunResult = {
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    exitCode: result.exitCode ?? -1,
    command,
  };
  if (out.exitCode !== 0 && opts.reject !== false) {
    throw new NicmatrixError(
      'COMMAND_FAILED',
      `\`${command}\` exited ${out.exitCode}: ${out.stderr.trim() || out.stdout.trim() || 'no output'}`,
      {
        details: { command, stderr: out.stderr, exitCode: out.exitCode },
      },
    );
  }
  return out;
}

/** Runs a command whose stdout is JSON and parses it; a parse error names the command. */
export async function runJson<T = unknown>(file: string, args: readonly string[], opts: RunOptions = {}): Promise<T> {
  return parseJsonOutput<T>(await run(file, args, opts));
}

/** The JSON a command printed (wherever it ran); a parse error names the command. */
export function parseJsonOutput<T = unknown>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new NicmatrixError(
      'COMMAND_FAILED',
      `\`${r.command}\` did not print JSON (expected JSON, found ${JSON.stringify(r.stdout.slice(0, 80))})`,
      { cause: e },
    );
  }
}
