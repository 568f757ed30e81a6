/** The guest's agent as one file: built from dist/, it answers like the unbundled agent, and is rebuilt when dist/ changes. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spawnAgentProcess } from '../../harness/agent/spawn.js';
import { AGENT_BUNDLE_PATH, ensureAgentBundle } from '../../drivers/qemu/agent-bundle.js';

describe('agent bundle', () => {
  it('is one file that serves the agent protocol (koffi loaded from node_modules), with its inputs listed', async () => {
    const entry = await ensureAgentBundle();
    expect(entry).toMatchObject({ path: AGENT_BUNDLE_PATH, bundled: true });
    const inputs = JSON.parse(fs.readFileSync(`${AGENT_BUNDLE_PATH}.inputs.json`, 'utf8')) as string[];
    expect(inputs.some((f) => f.endsWith('dist/harness/agent/main.js'))).toBe(true);
    expect(inputs.some((f) => f.includes('/node_modules/koffi/'))).toBe(false);
    const agent = await spawnAgentProcess('bundle', 'bundle', process.execPath, [AGENT_BUNDLE_PATH]);
    try {
      expect((await agent.client.call('agent.ping', {})).pid).toBeGreaterThan(0);
      // A syscall through koffi: the native module resolved from the bundle's place.
      const { id } = await agent.client.call('capture.start', { ifname: 'lo' });
      expect(await agent.client.call('capture.stop', { id, settleMs: 0 })).toMatchObject({ dropped: 0 });
    } finally {
      await agent.stop();
    }
  });
});
