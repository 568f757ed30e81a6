import { execa } from 'execa';
import { cleanup } from '../sys/cleanup.js';
import { agentMainPath } from '../sys/paths.js';
import { stopChild } from '../sys/process.js';
import { AgentClient } from './client.js';
import { type AgentKind, nativeAgentPath } from './native.js';

/** How long a fresh agent may take to say hello (node start-up on a loaded host). */
export const AGENT_START_TIMEOUT_MS = 15_000;

export interface LocalAgent {
  client: AgentClient;
  /** Stops the agent (closing its input first); also registered in the cleanup registry. */
  stop(): Promise<void>;
}

/** Starts an agent on this host, inside `netns` when given, talking over stdio: the Node agent, or the native one. */
export async function spawnLocalAgent(
  name: string,
  netns: string | undefined,
  signal?: AbortSignal,
  kind: AgentKind = 'node',
): Promise<LocalAgent> {
  const argv: [string, ...string[]] = kind === 'native' ? [await nativeAgentPath('host', signal)] : [process.execPath, agentMainPath];
  const [file, args] = netns ? ['ip', ['netns', 'exec', netns, ...argv]] : [argv[0], argv.slice(1)];
  return spawnAgentProcess(`agent ${name}`, name, file, args, signal);
}

/**
 * Starts any command that runs an agent on its stdio (locally, in a netns,
 * over ssh) and waits for its hello; stopping closes its input first.
 */
export async function spawnAgentProcess(
  label: string,
  name: string,
  file: string,
  args: string[],
  signal?: AbortSignal,
): Promise<LocalAgent> {
  let stderrTail = '';
  // Registered before the spawn so an interrupt during start-up still kills it.
  const teardown = cleanup.register(label, async () => {
    await stopChild(child, () => client.close());
  });
  const child = execa(file, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false, cleanup: true });
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-2000);
  });
  const client = new AgentClient(name, child.stdout!, child.stdin!, () => stderrTail);
  try {
    await client.ready(AGENT_START_TIMEOUT_MS, signal);
  } catch (e) {
    await teardown.run();
    throw e;
  }
  return { client, stop: () => teardown.run() };
}
