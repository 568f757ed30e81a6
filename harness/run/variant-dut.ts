/**
 * The DUT a check sees during one variant: every agent call carries the
 * variant's abort signal and scope, fits in what is left of the variant's
 * budget (its own wait shortened to match), and is kept as a step, so a
 * stall can say where it happened.
 */
import type { ActionName, ActionParams, ActionResult, CapturedFrame } from '../agent/protocol.js';
import type { Dut, LinkInfo, RunActionOptions, Side, TargetFacts } from '../../drivers/types.js';
import { ACTION_TIMEOUT_MS } from '../agent/client.js';
import { describeError, errorCode, NicmatrixError } from '../codec/errors.js';

/** One agent call of a check. */
export interface Step {
  /** 1-based position in the check's calls. */
  n: number;
  side: Side;
  action: string;
  startMs: number;
  endMs?: number;
  error?: string;
  /** NicmatrixError code of the failure (TIMEOUT: no answer in time). */
  code?: string;
}

/** Time an agent needs to answer after its own wait ended (encoding frames, a slow guest's serial line). */
export const ANSWER_MARGIN_MS = 5_000;
/** Shortest RPC bound given to a call made when the budget is nearly spent. */
const MIN_CALL_MS = 1_000;

export class VariantDut implements Dut {
  readonly steps: Step[] = [];
  /** Every capture the peer returned: what crossed the wire, for the checks of the DUT's headers. */
  readonly peerCaptures: CapturedFrame[][] = [];
  private readonly t0 = Date.now();

  constructor(
    private readonly inner: Dut,
    /** Aborts when the variant's time is up or the run stops. */
    readonly signal: AbortSignal,
    /** Date.now() by which every call must have answered. */
    private readonly deadline: number,
    readonly scope: string,
  ) {}

  get spec(): string {
    return this.inner.spec;
  }

  start(): Promise<LinkInfo> {
    return Promise.reject(new NicmatrixError('AGENT', `${this.spec}: a check cannot start its target`));
  }

  collect(): Promise<TargetFacts> {
    return this.inner.collect();
  }

  stop(): Promise<void> {
    return Promise.reject(new NicmatrixError('AGENT', `${this.spec}: a check cannot stop its target`));
  }

  async run<A extends ActionName>(side: Side, action: A, params: ActionParams<A>, opts: RunActionOptions = {}): Promise<ActionResult<A>> {
    const step: Step = { n: this.steps.length + 1, side, action, startMs: Date.now() - this.t0 };
    this.steps.push(step);
    if (this.signal.aborted) {
      step.endMs = step.startMs;
      step.error = 'not sent: the variant was already stopped';
      throw new NicmatrixError('INTERRUPTED', `${side} ${action}: not sent, the variant was stopped`, { cause: this.signal.reason });
    }
    const left = Math.max(MIN_CALL_MS, this.deadline - Date.now());
    const timeoutMs = Math.min(opts.timeoutMs ?? ACTION_TIMEOUT_MS, left);
    try {
      const r = await this.inner.run(side, action, capWait(params, left - ANSWER_MARGIN_MS), {
        ...opts,
        timeoutMs,
        signal: this.signal,
        scope: this.scope,
      });
      step.endMs = Date.now() - this.t0;
      if (side === 'peer' && action === 'capture.stop') this.peerCaptures.push((r as ActionResult<'capture.stop'>).frames);
      return r;
    } catch (e) {
      step.endMs = Date.now() - this.t0;
      step.error = describeError(e);
      step.code = errorCode(e);
      throw e;
    }
  }

  /** Time at least one agent call was out (overlapping calls counted once): the sending and waiting part of a check. */
  busyMs(): number {
    const now = Date.now() - this.t0;
    const spans = this.steps.map((s) => [s.startMs, s.endMs ?? now] as const).sort((a, b) => a[0] - b[0]);
    let total = 0;
    let [from, to] = [0, -1];
    for (const [a, b] of spans) {
      if (a > to) {
        total += Math.max(0, to - from);
        [from, to] = [a, b];
      } else to = Math.max(to, b);
    }
    return total + Math.max(0, to - from);
  }

  /** Calls still waiting for their answer, oldest first. */
  inflight(): Step[] {
    return this.steps.filter((s) => s.endMs === undefined);
  }
}

/** An agent-side wait (`timeoutMs` of a capture/receive stop) shortened to what the variant has left. */
export function capWait<P>(params: P, leftMs: number): P {
  if (typeof params !== 'object' || params === null || !('timeoutMs' in params)) return params;
  const wait = (params as { timeoutMs?: unknown }).timeoutMs;
  if (typeof wait !== 'number' || wait <= leftMs) return params;
  return { ...params, timeoutMs: Math.max(0, leftMs) };
}
