/**
 * The lifecycle every kind of device under test implements (loopback, veth,
 * QEMU guest, physical port pair), like a pool worker: start, run actions,
 * collect evidence, stop. Checks see only this, never the kind of target.
 */
import type { AgentClient } from '../harness/agent/client.js';
import type { AgentKind } from '../harness/agent/native.js';
import type { ActionName, ActionParams, ActionResult } from '../harness/agent/protocol.js';
import type { Teardown } from '../harness/sys/cleanup.js';
import type { RunOptions, RunResult } from '../harness/sys/exec.js';
import type { TargetRecord } from '../matrix/record.js';
import type { RemoteHost } from './remote-spec.js';

export type Side = 'dut' | 'peer';

/** One end of the link, as the checks need to address it. */
export interface EndpointInfo {
  /** Interface name in that endpoint's context (netns or guest). */
  ifname: string;
  mac: string;
  mtu: number;
  /** Test addresses the harness put there (documentation/benchmark ranges). */
  ipv4: string;
  ipv6: string;
}

/** What a started target offers to checks. */
export interface LinkInfo {
  dut: EndpointInfo;
  peer: EndpointInfo;
  /**
   * True when DUT and peer share one interface (loopback): the peer's capture
   * then sees the DUT's frames as received on that same interface.
   */
  sameInterface: boolean;
}

/** Identity and configuration facts of a started target, as the run record keeps them. */
export type TargetFacts = Pick<TargetRecord, 'kind' | 'device' | 'driver' | 'kernel' | 'features' | 'dimensions' | 'evidence'>;

export interface RunActionOptions {
  /** Give up after this long (default: the agent client's default). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The check variant the call belongs to: `agent.cancel` with this scope stops it and closes what it opened. */
  scope?: string;
}

/** A device under test with its peer. */
export interface Dut {
  /** The target spec as given (`veth`, `qemu:e1000`...). */
  readonly spec: string;
  /**
   * Brings the link up (namespaces, devices, guest, agents, addresses).
   * Registers its own teardowns before each setup step, so a failure half-way
   * still undoes what was done.
   */
  start(signal: AbortSignal): Promise<LinkInfo>;
  /** Executes one primitive action on one side of the link. */
  run<A extends ActionName>(side: Side, action: A, params: ActionParams<A>, opts?: RunActionOptions): Promise<ActionResult<A>>;
  /** Identity, feature snapshot and target-level evidence (console log...). */
  collect(): Promise<TargetFacts>;
  /** Undoes everything `start` did; safe to call twice, or after a failed start. */
  stop(): Promise<void>;
}

/** A parsed target spec, before anything is created. */
export type TargetSpec = (
  | { kind: 'lo'; spec: string }
  | { kind: 'veth'; spec: string }
  | { kind: 'qemu'; spec: string; model: string; options: Record<string, string> }
  | { kind: 'phys'; spec: string; dut: { netns?: string; ifname: string }; peer: { netns?: string; ifname: string }; remote?: RemoteHost }
) & {
  /** Which agent program serves the DUT side (spec option `agent=`): Node by default, the native one when asked. */
  agent?: AgentKind;
};

/** Runs a command on one host (inside `opts.netns` there when given), as `harness/sys/exec.ts`'s `run` does here. */
export type CommandRunner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** One agent to start on a host, for `PortHost.startAgent`. */
export interface AgentRequest {
  /** The target spec, for the agent's name in messages. */
  spec: string;
  /** Which side(s) the agent serves: `dut`, `peer` or `dut+peer`. */
  role: string;
  netns: string | undefined;
  kind: AgentKind;
  signal: AbortSignal;
  /** The target's undo steps: the host registers the agent's there, before each step. */
  teardowns: Teardown[];
}

/**
 * Where one end of a link lives: this host, or another reached over ssh.
 * A driver that borrows ports does everything through it, so a remote end is
 * configuration of the same driver, not a second one.
 */
export interface PortHost {
  /** `ssh` makes the peer's place a dimension of the cell (`peer: ssh`). */
  readonly kind: 'local' | 'ssh';
  /** Two ends with the same id and namespace are one place (their traffic would not cross the wire). */
  readonly id: string;
  readonly run: CommandRunner;
  /** Names a namespace there (the host's own when undefined), for messages. */
  where(netns: string | undefined): string;
  /** Checks the host before anything is changed on it (ssh: that it answers, and which agent it can run). */
  check(): Promise<void>;
  /** Starts an agent there and returns its client. */
  startAgent(req: AgentRequest): Promise<AgentClient>;
  /** What the record keeps of a remote host (address, agent program); undefined for this one. */
  evidence(): { host: string; agent: string } | undefined;
}
