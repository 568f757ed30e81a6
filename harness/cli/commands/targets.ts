import fs from 'node:fs';
import { runJson } from '../../sys/exec.js';
import { defineCommand } from './command.js';

/** Interfaces of this namespace backed by a device (PCI, USB...): candidates for phys: targets. */
async function physicalInterfaces(): Promise<{ ifname: string; driver: string; state: string }[]> {
  const links = await runJson<{ ifname: string; operstate: string }[]>('ip', ['-json', 'link', 'show']);
  return links
    .filter((l) => fs.existsSync(`/sys/class/net/${l.ifname}/device`))
    .map((l) => {
      let driver = '?';
      try {
        driver = fs.readlinkSync(`/sys/class/net/${l.ifname}/device/driver`).split('/').pop() ?? '?';
      } catch {
        // An unbound device has no driver link.
      }
      return { ifname: l.ifname, driver, state: l.operstate };
    });
}

export const command = defineCommand({
  usage:
    'usage: nicmatrix targets [--json]\n\nLists target specs for `nicmatrix run --target`: lo, veth, the QEMU models with the QEMU version present, and physical interfaces found here.',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    const rows: { spec: string; kind: string; description: string; available: boolean; note?: string }[] = [
      { spec: 'lo', kind: 'lo', description: 'loopback in a fresh netns', available: true },
      { spec: 'veth', kind: 'veth', description: 'veth pair, each end in its own netns', available: true },
    ];
    try {
      const { listQemuTargets } = await import('../../../drivers/qemu/targets.js');
      rows.push(...(await listQemuTargets()));
    } catch (e) {
      rows.push({
        spec: 'qemu:*',
        kind: 'qemu',
        description: 'QEMU-emulated NICs',
        available: false,
        note: e instanceof Error ? e.message : String(e),
      });
    }
    for (const p of await physicalInterfaces()) {
      rows.push({
        spec: `phys:${p.ifname},PEER_IF`,
        kind: 'phys',
        description: `${p.ifname} (driver ${p.driver}, ${p.state}); name the port cabled to it as PEER_IF (NETNS/IF)`,
        available: true,
      });
    }
    if (values.json) {
      io.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    const w = Math.max(...rows.map((r) => r.spec.length));
    for (const r of rows)
      io.out(`${r.spec.padEnd(w)}  ${r.available ? '' : '(unavailable) '}${r.description}${r.note ? ` — ${r.note}` : ''}`);
    return 0;
  },
});
