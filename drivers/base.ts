/**
 * The lifecycle every DUT kind shares: `start` runs the kind's `setup` and
 * undoes it when it fails, `stop` runs the teardowns in reverse, `run`
 * sends an action to the side's agent. Kinds extend it (`LocalDut` for
 * agents started on this host, `QemuDut` for a guest) and add only setup,
 * facts and what their own agents need.
 */
import type { AgentClient } from '../harness/agent/client.js';
import type { ActionName, ActionParams, ActionResult } from '../harness/agent/protocol.js';
import type { Teardown } from '../harness/sys/cleanup.js';
import { describeError, NicmatrixError } from '../harness/codec/errors.js';
import type { Dut, LinkInfo, RunActionOptions, Side, TargetFacts } from './types.js';

export abstract class DutBase implements Dut {
  /** Undo steps of this target, in the order they were registered. */
  protected teardowns: Teardown[] = [];
  /** The agent serving each side, once started. */
  protected agents: Partial<Record<Side, AgentClient>> = {};
  protected link: LinkInfo | undefined;

  constructor(readonly spec: string) {}

  /** Creates what the target needs and starts its agents, registering each teardown before its step. */
  protected abstract setup(signal: AbortSignal): Promise<LinkInfo>;
  abstract collect(): Promise<TargetFacts>;

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

  run<A extends ActionName>(side: Side, action: A, params: ActionParams<A>, opts: RunActionOptions = {}): Promise<ActionResult<A>> {
    const agent = this.agents[side];
    if (!agent) return Promise.reject(new NicmatrixError('AGENT', `${this.spec}: no ${side} agent (the target is not started)`));
    return agent.call(action, params, opts);
  }

  /** The started link, for `collect`; before `start` that is a coded error, not a crash. */
  protected startedLink(): LinkInfo {
    if (!this.link) throw new NicmatrixError('AGENT', `${this.spec}: collect() before start()`);
    return this.link;
  }

  async stop(): Promise<void> {
    const steps = this.teardowns.splice(0).reverse();
    for (const t of steps) await t.run();
    this.agents = {};
    this.stopped();
  }

  /** Forgets what the kind keeps of a started target, once its teardowns ran. */
  protected stopped(): void {}
}
