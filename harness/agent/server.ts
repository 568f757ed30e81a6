import os from 'node:os';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { describeError, errorCode, NicmatrixError } from '../codec/errors.js';
import type { ActionResult, Hello, Request, Response } from './protocol.js';
import { type AgentContext, findAction, ResourceTable, runAsCall } from './registry.js';

/** After `agent.cancel`, how long the scope's actions get to notice their signal before the answer says they still run. */
export const CANCEL_DRAIN_MS = 5_000;

type Inflight = { scope?: string; controller: AbortController; done: Promise<unknown> };

interface ServerState {
  ctx: AgentContext & { resources: ResourceTable };
  inflight: Map<number, Inflight>;
}

/**
 * Serves agent requests from `input`, one JSON object a line, answering on
 * `output`. Requests run concurrently (a capture waits while a send runs).
 * Resolves when the input ends, after closing every open resource.
 */
export async function serve(input: Readable, output: Writable): Promise<void> {
  const state: ServerState = { ctx: createContext(), inflight: new Map() };
  const write = (obj: Response | Hello) => output.write(JSON.stringify(obj) + '\n');
  write({ hello: 'nicmatrix-agent', pid: process.pid, kernel: os.release(), node: process.version });

  const pending = new Set<Promise<unknown>>();
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    const p = handle(line, state)
      .then(write)
      .catch(() => undefined);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  // The controller is gone: nothing will read the answers, so in-flight actions stop now.
  for (const call of state.inflight.values()) call.controller.abort(new NicmatrixError('INTERRUPTED', 'the controller closed the agent'));
  await Promise.allSettled(pending);
  for (const [id, res] of state.ctx.resources) {
    state.ctx.resources.delete(id);
    try {
      await res.close();
    } catch {
      // Closing at exit is best effort: the process is going away anyway.
    }
  }
}

function createContext(): ServerState['ctx'] {
  let next = 0;
  return { resources: new ResourceTable(), newId: (prefix) => `${prefix}-${++next}` };
}

async function handle(line: string, state: ServerState): Promise<Response> {
  let req: Request;
  try {
    req = JSON.parse(line) as Request;
  } catch {
    return { id: -1, error: { code: 'AGENT', message: `agent: expected a JSON request line, found ${JSON.stringify(line.slice(0, 60))}` } };
  }
  try {
    // Scope control is the server's own business: it needs the in-flight table, not an action's context.
    if (req.method === 'agent.cancel') return { id: req.id, result: await cancelScope(state, (req.params as { scope: string }).scope) };
    if (req.method === 'agent.status') return { id: req.id, result: status(state) };
  } catch (e) {
    return { id: req.id, error: { code: errorCode(e), message: describeError(e) } };
  }
  const handler = findAction(req.method);
  if (!handler) return { id: req.id, error: { code: 'UNSUPPORTED_ACTION', message: `agent: unknown action "${req.method}"` } };
  const controller = new AbortController();
  const run = runAsCall({ scope: req.scope, signal: controller.signal }, () => handler((req.params ?? {}) as never, state.ctx));
  state.inflight.set(req.id, { scope: req.scope, controller, done: run.catch(() => undefined) });
  try {
    const result = await run;
    return { id: req.id, result };
  } catch (e) {
    const details = e instanceof NicmatrixError ? e.details : undefined;
    return { id: req.id, error: { code: errorCode(e), message: describeError(e), details } };
  } finally {
    state.inflight.delete(req.id);
  }
}

/** Aborts every in-flight action of `scope`, closes the resources its calls opened, and says what still runs. */
async function cancelScope(state: ServerState, scope: string): Promise<ActionResult<'agent.cancel'>> {
  if (typeof scope !== 'string' || scope === '') throw new NicmatrixError('AGENT', 'agent.cancel: expected a scope name');
  const calls = [...state.inflight.values()].filter((c) => c.scope === scope);
  for (const c of calls) c.controller.abort(new NicmatrixError('INTERRUPTED', `scope ${scope} was cancelled`));
  const resources = state.ctx.resources.takeScope(scope);
  for (const r of resources) {
    try {
      await r.close();
    } catch {
      // A resource that fails to close is gone from the table all the same: nothing else can use it.
    }
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(calls.map((c) => c.done)), new Promise((res) => (timer = setTimeout(res, CANCEL_DRAIN_MS)))]);
  clearTimeout(timer);
  const running = [...state.inflight.values()].filter((c) => c.scope === scope).length;
  return { aborted: calls.length, stillRunning: running, closedResources: resources.length };
}

function status(state: ServerState): ActionResult<'agent.status'> {
  const scopes: Record<string, number> = {};
  for (const c of state.inflight.values()) if (c.scope !== undefined) scopes[c.scope] = (scopes[c.scope] ?? 0) + 1;
  return { inflight: state.inflight.size, resources: [...state.ctx.resources.keys()], inflightByScope: scopes };
}
