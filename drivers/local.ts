/** Targets whose agents are started by the harness itself (lo, veth, phys), and this host as a `PortHost`. */
import os from 'node:os';
import type { AgentKind } from '../harness/agent/native.js';
import { spawnLocalAgent } from '../harness/agent/spawn.js';
import { run } from '../harness/sys/exec.js';
import type { DeviceIdentity, DriverInfo, TargetKind } from '../matrix/record.js';
import { DutBase } from './base.js';
import type { PortHost, Side, TargetFacts } from './types.js';

/** This host: commands run here (`ip netns exec` for a namespace), agents are local processes. */
export const localHost: PortHost = {
  kind: 'local',
  id: 'local',
  run,
  where: (netns) => (netns ? `network namespace ${netns}` : 'the host namespace'),
  check: () => Promise.resolve(),
  async startAgent({ spec, role, netns, kind, signal, teardowns }) {
    const agent = await spawnLocalAgent(`${spec} ${role} agent`, netns, signal, kind);
    teardowns.push({ label: `agent ${role}`, run: agent.stop });
    return agent.client;
  },
  evidence: () => undefined,
};

export abstract class LocalDut extends DutBase {
  /** Which agent program serves the DUT side (`agent=` in the spec); the peer keeps the Node agent unless it shares the DUT's. */
  agentKind: AgentKind = 'node';

  abstract readonly kind: TargetKind;
  protected abstract device(driver: DriverInfo): DeviceIdentity;

  /** Starts an agent on `host` (this one by default) in `netns` (undefined: the host's own namespace) for one or both sides. */
  protected async startAgent(sides: Side[], netns: string | undefined, signal: AbortSignal, host: PortHost = localHost): Promise<void> {
    const kind = sides.includes('dut') ? this.agentKind : 'node';
    const client = await host.startAgent({ spec: this.spec, role: sides.join('+'), netns, kind, signal, teardowns: this.teardowns });
    for (const s of sides) this.agents[s] = client;
  }

  async collect(): Promise<TargetFacts> {
    const ifname = this.startedLink().dut.ifname;
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
}
