import type { ActionName, ActionParams, ActionResult } from './protocol.js';

/** State an action handler may keep across calls (open captures, listeners...). */
export interface AgentContext {
  /** Resources keyed by id; closed when the agent exits. */
  readonly resources: Map<string, { close(): void | Promise<void> }>;
  /** Fresh id for a resource. */
  newId(prefix: string): string;
}

export type Handler<A extends ActionName> = (params: ActionParams<A>, ctx: AgentContext) => Promise<ActionResult<A>>;

const handlers = new Map<string, Handler<ActionName>>();

/** Registers the handler of one action; action modules call this at import. */
export function defineAction<A extends ActionName>(name: A, handler: Handler<A>): void {
  if (handlers.has(name)) throw new Error(`agent action ${name} defined twice`);
  handlers.set(name, handler as unknown as Handler<ActionName>);
}

export function findAction(name: string): Handler<ActionName> | undefined {
  return handlers.get(name);
}

export function actionNames(): string[] {
  return [...handlers.keys()].sort();
}
