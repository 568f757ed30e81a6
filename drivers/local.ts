/** Shared lifecycle of targets whose both ends live on this host (lo, veth, phys). */
import os from 'node:os';
import type { AgentClient } from '../harness/agent/client.js';
import type { ActionName, ActionParams, ActionResult } from '../harness/agent/protocol.js';
import type { AgentKind } from '../harness/agent/native.js';
import { spawnLocalAgent } from '../harness/agent/spawn.js';
import type { Teardown } from '../harness/sys/cleanup.js';
import { describeError, NicmatrixError } from '../harness/codec/errors.js';
import type { DeviceIdentity, DriverInfo, TargetKind } from '../matrix/record.js';
import type { Dut, LinkInfo, RunActionOptions, Side, TargetFacts } from './types.js';

export abstract class LocalDut implements Dut {
  /** Undo steps of this target, in the order they were registered. */
  protected teardowns: Teardown[] = [];
  protected agents: Partial<Record<Side, AgentClient>> = {};
  protected link: LinkInfo | undefined;
  /** Which agent program serves the DUT side (`agent=` in the spec); the peer keeps the Node agent unless it shares the DUT's. */
  agentKind: AgentKind = 'node';

  constructor(readonly spec: string) {}

  abstract readonly kind: TargetKind;
  /** Creates what the target needs and starts the agents; fills `this.agents`. */
  protected abstract setup(signal: AbortSignal): Promise<LinkInfo>;
  protected abstract device(driver: DriverInfo): DeviceIdentity;

  async start(signal: AbortSignal): Promise<LinkInfo> {
    try {
      this.link = await this.setup(signal);
      return this.link;
    } catch (e) {
      await this.stop();
      if (e instanceof NicmatrixError) throw e;
      throw new NicmatrixError('TARGET_SETUP', `${this.spec}: could not set up the target: ${describeError(e)}`, { cause: e });
    }
  }

  /** Starts an agent in `netns` (undefined: the host's own namespace) for one or both sides. */
  protected async startAgent(sides: Side[], netns: string | undefined, signal: AbortSignal): Promise<void> {
    const kind = sides.includes('dut') ? this.agentKind : 'node';
    const agent = await spawnLocalAgent(`${this.spec} ${sides.join('+')} agent`, netns, signal, kind);
    this.teardowns.push({ label: `agent ${sides.join('+')}`, run: agent.stop });
    for (const s of sides) this.agents[s] = agent.client;
  }

  run<A extends ActionName>(side: Side, action: A, params: ActionParams<A>, opts: RunActionOptions = {}): Promise<ActionResult<A>> {
    const agent = this.agents[side];
    if (!agent) return Promise.reject(new NicmatrixError('AGENT', `${this.spec}: no ${side} agent (the target is not started)`));
    return agent.call(action, params, opts);
  }

  async collect(): Promise<TargetFacts> {
    if (!this.link) throw new NicmatrixError('AGENT', `${this.spec}: collect() before start()`);
    const ifname = this.link.dut.ifname;
    const driver = await this.run('dut', 'ethtool.driver', { ifname }).catch(() => this.fallbackDriver());
    const features = await this.run('dut', 'ethtool.features', { ifname });
    const { kernel } = await this.run('dut', 'agent.ping', {});
    return {
      kind: this.kind,
      device: this.device(driver),
      driver,
      kernel,
      features,
      dimensions: { ...this.dimensions(), ...(this.agentKind === 'native' ? { agent: 'native' } : {}) },
      evidence: {},
    };
  }

  /** Driver facts when `ethtool -i` has none (loopback answers "not supported"). */
  protected fallbackDriver(): DriverInfo {
    return { name: 'unknown', version: os.release(), firmware: '', bus: '' };
  }

  protected dimensions(): Record<string, string> {
    return {};
  }

  async stop(): Promise<void> {
    const steps = this.teardowns.splice(0).reverse();
    for (const t of steps) await t.run();
    this.agents = {};
  }
}
