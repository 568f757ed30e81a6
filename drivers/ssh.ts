/**
 * Commands and the agent on a remote host over ssh: non-interactive
 * (BatchMode, key authentication only), one session per command, the agent
 * speaking the same JSON-lines RPC over the ssh session's stdio.
 * `NICMATRIX_SSH_CONFIG` names an ssh_config file (`-F`); the peer runs the
 * Node agent when it has `node` and the project at `NICMATRIX_REMOTE_ROOT`
 * (default: the same path as here), and otherwise the native agent, copied
 * there for the run when its machine is this one's.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nativeAgentPath } from '../harness/agent/native.js';
import { cleanup, type Teardown } from '../harness/sys/cleanup.js';
import { spawnAgentProcess, type LocalAgent } from '../harness/agent/spawn.js';
import { NicmatrixError } from '../harness/codec/errors.js';
import { run, type RunOptions, type RunResult } from '../harness/sys/exec.js';
import { projectRoot } from '../harness/sys/paths.js';
import { describeRemote, type RemoteHost } from './remote-spec.js';
import type { PortHost } from './types.js';

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

/** Which agent the remote host runs: Node's when it has node and the project, else the native one, and why. */
export type RemoteAgent = { kind: 'node' } | { kind: 'native'; why: string };

/** Exit statuses of the remote probe: no node, no project, and the remote machine name on stdout. */
const NO_NODE = 3;
const NO_PROJECT = 4;

/**
 * Says which agent `r` can run, before anything is changed there: the Node
 * agent, or (no node or no project there) the native one when the remote
 * machine (`uname -m`) is this one's; otherwise why neither can run.
 */
export async function checkRemote(r: RemoteHost): Promise<RemoteAgent> {
  const { node, agent } = remoteLayout();
  const probe = `uname -m; command -v ${shellQuote(node)} >/dev/null || { echo "no ${node} in PATH"; exit ${NO_NODE}; }; test -f ${shellQuote(agent)} || { echo "no agent at ${agent}"; exit ${NO_PROJECT}; }`;
  const result = await run('ssh', sshArgs(r, probe), { reject: false, timeoutMs: 30_000 });
  if (result.exitCode === 0) return { kind: 'node' };
  const [machine = '', ...said] = result.stdout.trim().split('\n');
  if (result.exitCode !== NO_NODE && result.exitCode !== NO_PROJECT) {
    const why =
      result.exitCode === SSH_FAILED
        ? `cannot connect: ${result.stderr.trim() || 'ssh exited 255'} (the remote peer needs key authentication: BatchMode)`
        : result.stdout.trim() || result.stderr.trim() || `the probe exited ${result.exitCode}`;
    throw new NicmatrixError('TARGET_SETUP', `remote peer ${describeRemote(r)}: ${why}`, { details: { stderr: result.stderr } });
  }
  const missing = said.join('; ');
  if (machine.trim() !== os.machine())
    throw new NicmatrixError(
      'TARGET_SETUP',
      `remote peer ${describeRemote(r)}: ${missing}, and the native agent built here is for ${os.machine()}, not its ${machine.trim() || 'unknown machine'}; deploy the project there (clone, npm ci) or set NICMATRIX_REMOTE_ROOT to where it is`,
      { details: { stderr: result.stderr } },
    );
  return { kind: 'native', why: missing };
}

/** Where the native agent goes on the remote host: named by its content, in a directory only root reads. */
function remoteNativePath(binary: Uint8Array): string {
  return `/tmp/nicmatrix-agent-native-${createHash('sha256').update(binary).digest('hex').slice(0, 16)}`;
}

/**
 * Copies this host's native agent to `r` for the run; the teardown it
 * returns (registered before the copy) removes it again.
 */
export async function deployNativeAgent(r: RemoteHost, signal?: AbortSignal): Promise<{ path: string; teardown: Teardown }> {
  const binary = await fs.readFile(await nativeAgentPath('host', signal));
  const target = remoteNativePath(binary);
  const teardown = cleanup.register(`native agent ${target} on ${describeRemote(r)}`, async () => {
    await remoteRun(r, ['rm', '-f', target, `${target}.tmp`], { reject: false, timeoutMs: 30_000 });
  });
  const tmp = `${target}.tmp`;
  const script = `umask 077 && cat > ${shellQuote(tmp)} && chmod 700 ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(target)}`;
  const result = await run('ssh', sshArgs(r, script), { input: binary, reject: false, timeoutMs: 60_000, signal });
  if (result.exitCode !== 0)
    throw new NicmatrixError(
      'TARGET_SETUP',
      `remote peer ${describeRemote(r)}: copying the native agent to ${target} failed: ${result.stderr.trim() || `ssh exited ${result.exitCode}`}`,
      { details: { stderr: result.stderr } },
    );
  return { path: target, teardown };
}

/** Starts the agent on `r` (inside `netns` there when given; the native one at `nativePath`), talking over the ssh session's stdio. */
export async function spawnSshAgent(
  name: string,
  r: RemoteHost,
  netns: string | undefined,
  signal?: AbortSignal,
  nativePath?: string,
): Promise<LocalAgent> {
  const { node, agent } = remoteLayout();
  const words = [...(netns ? ['ip', 'netns', 'exec', netns] : []), ...(nativePath ? [nativePath] : [node, agent])];
  // Closing our end ends the remote agent (EOF), and ssh with it.
  return spawnAgentProcess(`remote agent ${name}`, name, 'ssh', sshArgs(r, `exec ${words.map(shellQuote).join(' ')}`), signal);
}

/**
 * `r` as the host of a port: commands run there over ssh, and the agent too
 * (Node's, or the native one copied there for the run when `check` found no
 * node or no project). The agent program asked for is not used: a remote end
 * runs what `check` found it can run.
 */
export function sshHost(r: RemoteHost): PortHost {
  const name = describeRemote(r);
  let agent: RemoteAgent = { kind: 'node' };
  let deployed = false;
  return {
    kind: 'ssh',
    id: `ssh://${name}`,
    run: (file, args, opts) => remoteRun(r, [file, ...args], opts),
    where: (netns) => (netns ? `network namespace ${netns} on ${name}` : name),
    async check() {
      agent = await checkRemote(r);
    },
    async startAgent({ spec, role, netns, signal, teardowns }) {
      let nativePath: string | undefined;
      if (agent.kind === 'native') {
        const copy = await deployNativeAgent(r, signal);
        teardowns.push(copy.teardown);
        nativePath = copy.path;
        deployed = true;
      }
      const started = await spawnSshAgent(`${spec} ${role} agent`, r, netns, signal, nativePath);
      teardowns.push({ label: `remote ${role} agent`, run: started.stop });
      return started.client;
    },
    evidence: () => ({ host: name, agent: deployed && agent.kind === 'native' ? `native (${agent.why})` : 'node' }),
  };
}
