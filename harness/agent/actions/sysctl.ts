/** Agent actions sysctl.get and sysctl.set: read or write one /proc/sys value in the agent's context (its netns, or the guest). */
import fs from 'node:fs/promises';
import { NicmatrixError } from '../../codec/errors.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** What `name` (dotted, e.g. `net.ipv4.ip_default_ttl`) holds, trimmed. */
    'sysctl.get': { params: { name: string }; result: { value: string } };
    /** Sets `name` (dotted, e.g. `net.ipv4.ipfrag_time`) to `value`; returns what it held before. */
    'sysctl.set': { params: { name: string; value: string }; result: { previous: string } };
  }
}

/** Dotted sysctl names only: no path can leave /proc/sys. */
const NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/i;

function sysctlFile(action: string, name: string): string {
  if (!NAME.test(name))
    throw new NicmatrixError('USAGE', `${action}: expected a dotted sysctl name like net.ipv4.ipfrag_time, found ${JSON.stringify(name)}`);
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

defineAction('sysctl.get', async ({ name }) => {
  const file = sysctlFile('sysctl.get', name);
  try {
    return { value: (await fs.readFile(file, 'utf8')).trim() };
  } catch (e) {
    throw new NicmatrixError('AGENT', `sysctl.get: could not read ${name} (${file}): ${(e as Error).message}`, { cause: e });
  }
});

defineAction('sysctl.set', async ({ name, value }) => {
  const file = sysctlFile('sysctl.set', name);
  let previous: string;
  try {
    previous = (await fs.readFile(file, 'utf8')).trim();
    await fs.writeFile(file, `${value}\n`);
  } catch (e) {
    throw new NicmatrixError('AGENT', `sysctl.set: could not set ${name} (${file}) to ${value}: ${(e as Error).message}`, { cause: e });
  }
  return { previous };
});
