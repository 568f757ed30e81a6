/** Agent action link.setMtu: a variant's smaller MTU, put back by the check that set it. */
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
  await run('ip', ['link', 'set', 'dev', ifname, 'mtu', String(mtu)]);
  return { previous: info.mtu };
});
