/** Agent actions vlan.add / vlan.del: an 802.1Q sub-interface for the time of one check, removed when the agent exits. */
import { NicmatrixError } from '../../codec/errors.js';
import { run } from '../../sys/exec.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Adds `name` (VLAN `vid` over `parent`, 802.1Q or 802.1ad) with the given addresses (CIDR), up, IPv6 without DAD. */
    'vlan.add': {
      params: { parent: string; name: string; vid: number; protocol?: '802.1Q' | '802.1ad'; addresses: string[] };
      result: { id: string; ifname: string };
    };
    'vlan.del': { params: { id: string }; result: Record<string, never> };
  }
}

class VlanLink {
  constructor(readonly ifname: string) {}
  async close(): Promise<void> {
    await run('ip', ['link', 'del', 'dev', this.ifname], { reject: false });
  }
}

defineAction('vlan.add', async ({ parent, name, vid, protocol, addresses }, ctx) => {
  await run('ip', ['link', 'add', 'link', parent, 'name', name, 'type', 'vlan', 'protocol', protocol ?? '802.1Q', 'id', String(vid)]);
  const link = new VlanLink(name);
  const id = ctx.newId('vlan');
  ctx.resources.set(id, link);
  try {
    for (const a of addresses) await run('ip', ['addr', 'add', a, 'dev', name, ...(a.includes(':') ? ['nodad'] : [])]);
    await run('ip', ['link', 'set', 'dev', name, 'up']);
  } catch (e) {
    ctx.resources.delete(id);
    await link.close();
    throw e;
  }
  return { id, ifname: name };
});

defineAction('vlan.del', async ({ id }, ctx) => {
  const link = ctx.resources.get(id);
  if (!(link instanceof VlanLink))
    throw new NicmatrixError('AGENT', `vlan.del: expected a VLAN link "${id}", found ${link ? 'another kind of resource' : 'none'}`);
  ctx.resources.delete(id);
  await link.close();
  return {};
});
