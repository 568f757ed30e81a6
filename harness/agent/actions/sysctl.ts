/** Agent action sysctl.set: writes one /proc/sys value in the agent's context (its netns, or the guest) and returns the old one. */
import fs from 'node:fs/promises';
import { NicmatrixError } from '../../codec/errors.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Sets `name` (dotted, e.g. `net.ipv4.ipfrag_time`) to `value`; returns what it held before. */
    'sysctl.set': { params: { name: string; value: string }; result: { previous: string } };
  }
}

/** Dotted sysctl names only: no path can leave /proc/sys. */
const NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/i;

defineAction('sysctl.set', async ({ name, value }) => {
  if (!NAME.test(name))
    throw new NicmatrixError('USAGE', `sysctl.set: expected a dotted sysctl name like net.ipv4.ipfrag_time, found ${JSON.stringify(name)}`);
  const file = `/proc/sys/${name.replace(/\./g, '/')}`;
  let previous: string;
  try {
    previous = (await fs.readFile(file, 'utf8')).trim();
    await fs.writeFile(file, `${value}\n`);
  } catch (e) {
    throw new NicmatrixError('AGENT', `sysctl.set: could not set ${name} (${file}) to ${value}: ${(e as Error).message}`, { cause: e });
  }
  return { previous };
});
