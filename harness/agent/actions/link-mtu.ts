/** Agent action link.setMtu: a variant's smaller MTU, put back by the check that set it. */
import { NicmatrixError } from '../../codec/errors.js';
import { runJson, run } from '../../sys/exec.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Sets the interface's MTU; returns the one it had. */
    'link.setMtu': { params: { ifname: string; mtu: number }; result: { previous: number } };
  }
}

defineAction('link.setMtu', async ({ ifname, mtu }) => {
  const [info] = await runJson<{ mtu: number }[]>('ip', ['-json', 'link', 'show', 'dev', ifname]);
  if (!info) throw new NicmatrixError('COMMAND_FAILED', `ip link show dev ${ifname}: expected the link, found an empty list`);
  await run('ip', ['link', 'set', 'dev', ifname, 'mtu', String(mtu)]);
  return { previous: info.mtu };
});
