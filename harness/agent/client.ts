import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { isErrorCode, isNicmatrixError, NicmatrixError } from '../codec/errors.js';
import type { ActionName, ActionParams, ActionResult, Hello, Response } from './protocol.js';

/** Default limit for one action; long actions (sendfile of 64 MiB) pass their own. */
export const ACTION_TIMEOUT_MS = 60_000;

type Pending = { resolve(v: unknown): void; reject(e: Error): void; method: string; timer?: NodeJS.Timeout };

/**
 * Controller side of the agent RPC over any byte stream pair. Calls run
 * concurrently; when the agent goes away every pending call fails with
 * AGENT_EXITED and what the agent last printed.
 */
export class AgentClient {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private closedWith: NicmatrixError | null = null;
  private helloPromise: Promise<Hello>;

  constructor(
    readonly name: string,
    fromAgent: Readable,
    private toAgent: Writable,
    /** Why the agent is gone (stderr tail, console tail), asked only when it is. */
    private describeExit: () => string = () => '',
  ) {
    let resolveHello!: (h: Hello) => void;
    let rejectHello!: (e: Error) => void;
    this.helloPromise = new Promise<Hello>((res, rej) => {
      resolveHello = res;
      rejectHello = rej;
    });
    this.helloPromise.catch(() => undefined);
    const rl = readline.createInterface({ input: fromAgent, crlfDelay: Infinity });
    rl.on('line', (line) => {
      const start = line.indexOf('{');
      if (start < 0) return; // console noise before the agent speaks
      let msg: Response | Hello;
      try {
        msg = JSON.parse(line.slice(start)) as Response | Hello;
      } catch {
        return;
      }
      if ('hello' in msg) return resolveHello(msg);
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (p.timer) clearTimeout(p.timer);
      if ('error' in msg) {
        // The agent's code travels unchanged (a code this side does not know is AGENT); `details.agent` says where it was raised.
        const code = isErrorCode(msg.error.code) ? msg.error.code : 'AGENT';
        p.reject(
          new NicmatrixError(code, `${this.name}: ${p.method}: ${msg.error.message}`, {
            details: { ...msg.error.details, agent: this.name, action: p.method, agentCode: msg.error.code },
          }),
        );
      } else {
        p.resolve(msg.result);
      }
    });
    const onGone = () => {
      const err = new NicmatrixError('AGENT_EXITED', `${this.name}: the agent went away${this.tail()}`);
      rejectHello(err);
      this.failAll(err);
    };
    rl.on('close', onGone);
    toAgent.on('error', onGone);
  }

  /** Waits for the agent's hello line. */
  async ready(timeoutMs: number, signal?: AbortSignal): Promise<Hello> {
    return withTimeout(
      this.helloPromise,
      timeoutMs,
      signal,
      () => `${this.name}: the agent did not say hello within ${timeoutMs} ms${this.tail()}`,
    );
  }

  call<A extends ActionName>(
    method: A,
    params: ActionParams<A>,
    opts: { timeoutMs?: number; signal?: AbortSignal; scope?: string } = {},
  ): Promise<ActionResult<A>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? ACTION_TIMEOUT_MS;
    return new Promise<ActionResult<A>>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        clearTimeout(entry.timer);
        reject(new NicmatrixError('INTERRUPTED', `${this.name}: ${method} interrupted`, { cause: signal?.reason }));
      };
      // Every way a call ends drops its abort listener, so long runs do not pile them up.
      const done =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          signal?.removeEventListener('abort', onAbort);
          fn(v);
        };
      const entry: Pending = { resolve: done(resolve as (v: unknown) => void), reject: done(reject), method };
      entry.timer = setTimeout(() => {
        this.pending.delete(id);
        entry.reject(new NicmatrixError('TIMEOUT', `${this.name}: ${method} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, entry);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.toAgent.write(
        JSON.stringify(opts.scope === undefined ? { id, method, params } : { id, method, params, scope: opts.scope }) + '\n',
      );
    });
  }

  /** Ends the request stream: the agent closes its resources and exits. */
  close(): void {
    if (!this.closedWith) this.closedWith = new NicmatrixError('AGENT_EXITED', `${this.name}: the agent was closed`);
    this.toAgent.end();
  }

  private tail(): string {
    const t = this.describeExit().trim();
    return t ? `; last output: ${t}` : '';
  }

  private failAll(err: NicmatrixError): void {
    this.closedWith ??= err;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

/** True for an error the agent itself raised and answered with: the agent (and a guest it runs in) is alive. */
export function raisedByAgent(e: unknown): boolean {
  return isNicmatrixError(e) && typeof e.details.agent === 'string';
}

export async function withTimeout<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NicmatrixError('TIMEOUT', message())), ms);
        if (signal) {
          onAbort = () => reject(new NicmatrixError('INTERRUPTED', 'interrupted', { cause: signal.reason }));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
