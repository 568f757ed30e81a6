/**
 * Commands and the agent on a remote host over ssh: non-interactive
 * (BatchMode, key authentication only), one session per command, the agent
 * speaking the same JSON-lines RPC over the ssh session's stdio.
 * `NICMATRIX_SSH_CONFIG` names an ssh_config file (`-F`); the peer needs only
 * `node` and the project, at `NICMATRIX_REMOTE_ROOT` (default: the same path as here).
 */
import path from 'node:path';
import { spawnAgentProcess, type LocalAgent } from '../harness/agent/spawn.js';
import { NicmatrixError } from '../harness/errors.js';
import { run, type RunOptions, type RunResult } from '../harness/exec.js';
import { projectRoot } from '../harness/paths.js';
import { describeRemote, type RemoteHost } from './remote-spec.js';

/** ssh's own exit status for "could not connect or authenticate" (the remote command's status otherwise). */
const SSH_FAILED = 255;

/** Where the project is on the remote host, and its `node`. */
export function remoteLayout(env: NodeJS.ProcessEnv = process.env): { root: string; node: string; agent: string } {
  const root = env.NICMATRIX_REMOTE_ROOT || projectRoot;
  return { root, node: env.NICMATRIX_REMOTE_NODE || 'node', agent: path.posix.join(root, 'dist', 'harness', 'agent', 'main.js') };
}

/** One word for the remote shell, whatever it contains. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** ssh arguments to run `script` (a remote shell command line) on `r`. */
export function sshArgs(r: RemoteHost, script: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const args = [
    '-T',
    '-e',
    'none',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
  ];
  if (env.NICMATRIX_SSH_CONFIG) args.push('-F', env.NICMATRIX_SSH_CONFIG);
  if (r.port) args.push('-p', String(r.port));
  if (r.user) args.push('-l', r.user);
  return [...args, '--', r.host, script];
}

/** Runs a command (argv, quoted for the remote shell) on `r`, optionally inside a netns there. */
export async function remoteRun(
  r: RemoteHost,
  argv: readonly string[],
  opts: Omit<RunOptions, 'netns'> & { netns?: string } = {},
): Promise<RunResult> {
  const words = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : [...argv];
  const result = await run('ssh', sshArgs(r, words.map(shellQuote).join(' ')), { ...opts, netns: undefined, reject: false });
  if (result.exitCode === SSH_FAILED) {
    throw new NicmatrixError(
      'TARGET_SETUP',
      `ssh ${describeRemote(r)}: cannot run \`${words.join(' ')}\` there: ${result.stderr.trim() || 'ssh exited 255'}`,
      { details: { command: result.command, stderr: result.stderr } },
    );
  }
  if (result.exitCode !== 0 && opts.reject !== false) {
    throw new NicmatrixError(
      'COMMAND_FAILED',
      `on ${describeRemote(r)}: \`${words.join(' ')}\` exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim() || 'no output'}`,
      {
        details: { command: result.command, stderr: result.stderr, exitCode: result.exitCode },
      },
    );
  }
  return result;
}

/** Says what is missing on the remote host (ssh access, node, the built agent) before anything is changed there. */
export async function checkRemote(r: RemoteHost): Promise<void> {
  const { node, agent } = remoteLayout();
  const probe = `command -v ${shellQuote(node)} >/dev/null || { echo "no ${node} in PATH"; exit 3; }; test -f ${shellQuote(agent)} || { echo "no agent at ${agent}"; exit 4; }`;
  const result = await run('ssh', sshArgs(r, probe), { reject: false, timeoutMs: 30_000 });
  if (result.exitCode === 0) return;
  const why =
    result.exitCode === SSH_FAILED
      ? `cannot connect: ${result.stderr.trim() || 'ssh exited 255'} (the remote peer needs key authentication: BatchMode)`
      : result.stdout.trim() || result.stderr.trim();
  const hint = result.exitCode === 4 ? '; deploy the project there (clone, npm ci) or set NICMATRIX_REMOTE_ROOT to where it is' : '';
  throw new NicmatrixError('TARGET_SETUP', `remote peer ${describeRemote(r)}: ${why}${hint}`, { details: { stderr: result.stderr } });
}

/** Starts the agent on `r` (inside `netns` there when given), talking over the ssh session's stdio. */
export async function spawnSshAgent(name: string, r: RemoteHost, netns: string | undefined, signal?: AbortSignal): Promise<LocalAgent> {
  const { node, agent } = remoteLayout();
  const words = [...(netns ? ['ip', 'netns', 'exec', netns] : []), node, agent];
  // Closing our end ends the remote agent (EOF), and ssh with it.
  return spawnAgentProcess(`remote agent ${name}`, name, 'ssh', sshArgs(r, `exec ${words.map(shellQuote).join(' ')}`), signal);
}
