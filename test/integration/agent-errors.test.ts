/**
 * A coded error raised inside an action of the real, compiled agent (a stdio agent on this host)
 * reaches the controller with the same code, and with the agent it came from in `details`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raisedByAgent } from '../../harness/agent/client.js';
import { type LocalAgent, spawnLocalAgent } from '../../harness/agent/spawn.js';
import { NicmatrixError } from '../../matrix/errors.js';

let agent: LocalAgent;
beforeAll(async () => {
  agent = await spawnLocalAgent('coded', undefined);
});
afterAll(async () => {
  await agent?.stop();
});

async function rejection(p: Promise<unknown>): Promise<NicmatrixError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof NicmatrixError)) throw new Error(`expected a NicmatrixError, found ${String(e)}`);
  return e;
}

// No interface has this name: names of ours are nm-<pid>-…, and 15 characters is the kernel's limit.
const MISSING = 'nmx-no-such-if';

describe('error codes across the real agent', () => {
  it('a failed command inside the agent (ip on a missing interface) arrives as COMMAND_FAILED, not AGENT', async () => {
    const e = await rejection(agent.client.call('link.info', { ifname: MISSING }));
    expect(e.code).toBe('COMMAND_FAILED');
    expect(e.message).toMatch(/^coded: link\.info: `ip -json addr show dev nmx-no-such-if`/);
    expect(e.details).toMatchObject({ agent: 'coded', action: 'link.info', agentCode: 'COMMAND_FAILED' });
    expect(raisedByAgent(e)).toBe(true);
  });

  it('a failed system call inside the agent arrives as SYSCALL with its errno name', async () => {
    const e = await rejection(agent.client.call('packet.send', { ifname: MISSING, frames: [Buffer.alloc(60).toString('base64')] }));
    expect(e.code).toBe('SYSCALL');
    expect(e.details).toMatchObject({ agent: 'coded', agentCode: 'SYSCALL', errnoName: 'ENODEV' });
  });

  it("a resource the agent does not hold is the agent's own AGENT error", async () => {
    const e = await rejection(agent.client.call('capture.stop', { id: 'capture-404' }));
    expect([e.code, e.details.agent]).toEqual(['AGENT', 'coded']);
  });
});
