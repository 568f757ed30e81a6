/**
 * One error class from the agent to the record: an error raised inside an agent action reaches the
 * controller with its code, and no source module throws a plain `Error` or declares its own error class.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AgentClient, raisedByAgent } from '../../harness/agent/client.js';
import type { ActionName } from '../../harness/agent/protocol.js';
import { defineAction } from '../../harness/agent/registry.js';
import { serve } from '../../harness/agent/server.js';
import { ERROR_CODES, NicmatrixError } from '../../matrix/errors.js';

const ROOT = join(import.meta.dirname, '../..');
const SOURCE_DIRS = ['harness', 'drivers', 'matrix', 'reports', 'ci'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** An in-process agent (the real server and client over two pipes), closed after `fn`. */
async function withAgent<T>(fn: (client: AgentClient) => Promise<T>): Promise<T> {
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const served = serve(toAgent, fromAgent);
  const client = new AgentClient('in-process', fromAgent, toAgent);
  await client.ready(5000);
  try {
    return await fn(client);
  } finally {
    client.close();
    await served;
  }
}

async function rejection(p: Promise<unknown>): Promise<NicmatrixError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof NicmatrixError)) throw new Error(`expected a NicmatrixError, found ${String(e)}`);
  return e;
}

describe('errors across the agent RPC', () => {
  // Test-only actions: one per code the agent may raise, plus one answering a code this controller does not know.
  for (const code of ERROR_CODES)
    defineAction(`test.raise.${code}` as ActionName, async () => {
      throw new NicmatrixError(code, `raised ${code}`, { details: { file: '/x', n: 1 }, cause: new NicmatrixError('SYSCALL', 'lower') });
    });

  it('every code arrives at the controller unchanged, with its details and the agent it came from', async () => {
    await withAgent(async (client) => {
      for (const code of ERROR_CODES) {
        const e = await rejection(client.call(`test.raise.${code}` as ActionName, {} as never));
        expect(e.code).toBe(code);
        expect(e.message).toBe(`in-process: test.raise.${code}: raised ${code}: caused by: lower`);
        expect(e.details).toMatchObject({ file: '/x', n: 1, agent: 'in-process', action: `test.raise.${code}`, agentCode: code });
        expect(raisedByAgent(e)).toBe(true);
      }
    });
  });

  it('a plain exception in an action is INTERNAL; an unknown action is UNSUPPORTED_ACTION; both say they came from the agent', async () => {
    defineAction('test.raise.plain' as ActionName, async () => {
      throw new TypeError('bug');
    });
    await withAgent(async (client) => {
      const plain = await rejection(client.call('test.raise.plain' as ActionName, {} as never));
      expect([plain.code, plain.details.agent]).toEqual(['INTERNAL', 'in-process']);
      const unknown = await rejection(client.call('no.such.action' as ActionName, {} as never));
      expect([unknown.code, unknown.details.agent, unknown.message]).toEqual([
        'UNSUPPORTED_ACTION',
        'in-process',
        'in-process: no.such.action: agent: unknown action "no.such.action"',
      ]);
    });
  });

  it("a code this controller does not know becomes AGENT and keeps the agent's own code in details", async () => {
    const toAgent = new PassThrough();
    const fromAgent = new PassThrough();
    const client = new AgentClient('newer-agent', fromAgent, toAgent);
    toAgent.once('data', (line: Buffer) => {
      const { id } = JSON.parse(line.toString()) as { id: number };
      fromAgent.write(JSON.stringify({ id, error: { code: 'FROM_THE_FUTURE', message: 'new kind' } }) + '\n');
    });
    const e = await rejection(client.call('agent.ping', {}));
    expect([e.code, e.details.agentCode, e.details.agent]).toEqual(['AGENT', 'FROM_THE_FUTURE', 'newer-agent']);
    client.close();
  });

  it("an error the controller raises itself (timeout) is not marked as the agent's", async () => {
    const client = new AgentClient('silent', new PassThrough(), new PassThrough());
    const e = await rejection(client.call('agent.ping', {}, { timeoutMs: 10 }));
    expect(e.code).toBe('TIMEOUT');
    expect(raisedByAgent(e)).toBe(false);
    client.close();
  });
});

describe('one error class', () => {
  it('no source module throws a plain Error or declares an error class of its own', () => {
    const offenders: string[] = [];
    for (const file of SOURCE_DIRS.flatMap(sourceFiles)) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const plain = /\bnew (Type|Range|Syntax|Reference)?Error\(/.test(line);
          const ownClass =
            /\bclass\s+\w+\s+extends\s+\w*Error\b/.test(line) &&
            !(file === join('matrix', 'errors.ts') && /class NicmatrixError extends Error\b/.test(line));
          if (plain || ownClass) offenders.push(`${relative(ROOT, join(ROOT, file))}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
