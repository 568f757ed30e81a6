import { AsyncLocalStorage } from 'node:async_hooks';
import { NicmatrixError } from '../codec/errors.js';
import type { ActionName, ActionParams, ActionResult } from './protocol.js';

/** An agent resource: closed when its scope is cancelled or the agent exits. */
export interface Resource {
  close(): void | Promise<void>;
}

/** State an action handler may keep across calls (open captures, listeners...). */
export interface AgentContext {
  /** Resources keyed by id; closed when the agent exits. */
  readonly resources: Map<string, Resource>;
  /** Fresh id for a resource. */
  newId(prefix: string): string;
}

export type Handler<A extends ActionName> = (params: ActionParams<A>, ctx: AgentContext) => Promise<ActionResult<A>>;

/** What the server knows of the call an action runs for: its scope (one check variant) and its abort signal. */
export interface CallInfo {
  scope?: string;
  signal: AbortSignal;
}

const calls = new AsyncLocalStorage<CallInfo>();

/** Runs `fn` as the call `info`: resources it creates belong to the call's scope, `callSignal()` is its signal. */
export function runAsCall<T>(info: CallInfo, fn: () => T): T {
  return calls.run(info, fn);
}

/** The abort signal of the call the current action runs for (never aborted outside a call). */
export function callSignal(): AbortSignal {
  return calls.getStore()?.signal ?? new AbortController().signal;
}

/** The resource table: remembers which scope created each resource, so a cancelled scope closes what it opened. */
export class ResourceTable extends Map<string, Resource> {
  private scopes = new Map<string, string>();

  override set(id: string, res: Resource): this {
    const scope = calls.getStore()?.scope;
    if (scope !== undefined && this.scopes) this.scopes.set(id, scope);
    return super.set(id, res);
  }

  override delete(id: string): boolean {
    this.scopes?.delete(id);
    return super.delete(id);
  }

  /** Removes and returns the resources created by calls of `scope`. */
  takeScope(scope: string): Resource[] {
    const out: Resource[] = [];
    for (const [id, s] of this.scopes) {
      if (s !== scope) continue;
      const res = this.get(id);
      this.delete(id);
      if (res) out.push(res);
    }
    return out;
  }
}

const handlers = new Map<string, Handler<ActionName>>();

/** Registers the handler of one action; action modules call this at import. */
export function defineAction<A extends ActionName>(name: A, handler: Handler<A>): void {
  if (handlers.has(name)) throw new NicmatrixError('INTERNAL', `agent action ${name} defined twice`);
  handlers.set(name, handler as unknown as Handler<ActionName>);
}

export function findAction(name: string): Handler<ActionName> | undefined {
  return handlers.get(name);
}
