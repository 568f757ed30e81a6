import os from 'node:os';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { describeError, errorCode, NicmatrixError } from '../errors.js';
import type { Hello, Request, Response } from './protocol.js';
import { type AgentContext, findAction } from './registry.js';

/**
 * Serves agent requests from `input`, one JSON object a line, answering on
 * `output`. Requests run concurrently (a capture waits while a send runs).
 * Resolves when the input ends, after closing every open resource.
 */
export async function serve(input: Readable, output: Writable): Promise<void> {
  const ctx = createContext();
  const write = (obj: Response | Hello) => output.write(JSON.stringify(obj) + '\n');
  write({ hello: 'nicmatrix-agent', pid: process.pid, kernel: os.release(), node: process.version });

  const pending = new Set<Promise<unknown>>();
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    const p = handle(line, ctx)
      .then(write)
      .catch(() => undefined);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  await Promise.allSettled(pending);
  for (const [id, res] of ctx.resources) {
    ctx.resources.delete(id);
    try {
      await res.close();
    } catch {
      // Closing at exit is best effort: the process is going away anyway.
    }
  }
}

function createContext(): AgentContext {
  let next = 0;
  return { resources: new Map(), newId: (prefix) => `${prefix}-${++next}` };
}

async function handle(line: string, ctx: AgentContext): Promise<Response> {
  let req: Request;
  try {
    req = JSON.parse(line) as Request;
  } catch {
    return { id: -1, error: { code: 'AGENT', message: `agent: expected a JSON request line, found ${JSON.stringify(line.slice(0, 60))}` } };
  }
  const handler = findAction(req.method);
  if (!handler) return { id: req.id, error: { code: 'AGENT', message: `agent: unknown action "${req.method}"` } };
  try {
    const result = await handler((req.params ?? {}) as never, ctx);
    return { id: req.id, result };
  } catch (e) {
    const details = e instanceof NicmatrixError ? e.details : undefined;
    return { id: req.id, error: { code: errorCode(e), message: describeError(e), details } };
  }
}
