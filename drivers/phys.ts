/**
 * `phys:DUT,PEER`: interfaces that already exist (a NIC port cabled to
 * another). Nothing is created or deleted; the test addresses, neighbour
 * entries and link state the harness changes are put back on stop.
 */
import { cleanup } from '../harness/sys/cleanup.js';
import { NicmatrixError } from '../harness/codec/errors.js';
import { run, runJson } from '../harness/sys/exec.js';
import type { DeviceIdentity, DriverInfo } from '../matrix/record.js';
import { LocalDut } from './local.js';
import { nextInstance } from './names.js';
import { type AddressPlan, addressPair, pinNeighbours, readPciId } from './netns.js';
import type { LinkInfo } from './types.js';

type End = { netns?: string; ifname: string };

export class PhysDut extends LocalDut {
  readonly kind = 'phys' as const;
  private pciId: string | undefined;

  constructor(
    spec: string,
    private readonly ends: { dut: End; peer: End },
  ) {
    super(spec);
  }

  protected async setup(signal: AbortSignal): Promise<LinkInfo> {
    const { dut, peer } = this.ends;
    // A port that does not exist is said first: it is the cause, whatever else the spec gets wrong.
    for (const end of [dut, peer]) await this.assertExists(end);
    if ((dut.netns ?? '') === (peer.netns ?? '')) {
      throw new NicmatrixError(
        'TARGET_SPEC',
        `${this.spec}: DUT ${dut.ifname} and peer ${peer.ifname} are in the same network namespace; traffic between them would go through loopback, not the wire. Move the peer port into a namespace (ip link set ${peer.ifname} netns NAME) and give it as NAME/${peer.ifname}`,
      );
    }
    const base = 0x100 + (nextInstance() & 0xff);
    const plan = addressPair(base);
    // Registered first so it runs last: once our addresses are gone nothing resolves the peer again, so no
    // INCOMPLETE entry a late packet made between the two steps outlives the run.
    const neigh = cleanup.register(`neighbour entries on ${this.spec}`, async () => {
      for (const [end, other] of [
        [dut, plan.peer],
        [peer, plan.dut],
      ] as const) {
        const ns = end.netns ? ['-n', end.netns] : [];
        await run('ip', [...ns, 'neigh', 'del', other.ipv4, 'dev', end.ifname], { reject: false });
        await run('ip', [...ns, '-6', 'neigh', 'del', other.ipv6, 'dev', end.ifname], { reject: false });
      }
    });
    this.teardowns.push(neigh);
    await this.borrow(dut, plan.dut);
    await this.borrow(peer, plan.peer);
    this.pciId = await readPciId(dut);
    await this.startAgent(['dut'], dut.netns, signal);
    await this.startAgent(['peer'], peer.netns, signal);
    const [d, p] = await Promise.all([
      this.run('dut', 'link.info', { ifname: dut.ifname }),
      this.run('peer', 'link.info', { ifname: peer.ifname }),
    ]);
    await pinNeighbours({ ...dut, mac: d.mac, plan: plan.dut }, { ...peer, mac: p.mac, plan: plan.peer });
    return {
      dut: { ifname: dut.ifname, mac: d.mac, mtu: d.mtu, ipv4: plan.dut.ipv4, ipv6: plan.dut.ipv6 },
      peer: { ifname: peer.ifname, mac: p.mac, mtu: p.mtu, ipv4: plan.peer.ipv4, ipv6: plan.peer.ipv6 },
      sameInterface: false,
    };
  }

  private async assertExists(end: End): Promise<void> {
    const ns = end.netns ? ['-n', end.netns] : [];
    const r = await run('ip', [...ns, '-json', 'link', 'show', 'dev', end.ifname], { reject: false });
    if (r.exitCode !== 0) {
      const where = end.netns ? `network namespace ${end.netns}` : 'the host namespace';
      throw new NicmatrixError(
        'TARGET_SPEC',
        `${this.spec}: expected an existing interface ${end.ifname} in ${where}, found none (${r.stderr.trim()})`,
      );
    }
  }

  /** Adds our addresses and brings the link up; the teardown (registered first) puts both back. */
  private async borrow(end: End, plan: AddressPlan): Promise<void> {
    const ns = end.netns ? ['-n', end.netns] : [];
    const [link] = await runJson<{ flags: string[] }[]>('ip', [...ns, '-json', 'link', 'show', 'dev', end.ifname]);
    const wasUp = link.flags.includes('UP');
    const linkLocalBefore = await this.linkLocals(end);
    const addrs = [`${plan.ipv4}/${plan.ipv4Prefix}`, `${plan.ipv6}/${plan.ipv6Prefix}`];
    this.teardowns.push(
      cleanup.register(`restore ${end.ifname}`, async () => {
        for (const a of addrs) await run('ip', [...ns, 'addr', 'del', a, 'dev', end.ifname], { reject: false });
        if (!wasUp) await run('ip', [...ns, 'link', 'set', end.ifname, 'down'], { reject: false });
        // Carrier we brought up made the kernel add a link-local address: it was not there, so it goes.
        for (const a of await this.linkLocals(end)) {
          if (!linkLocalBefore.includes(a)) await run('ip', [...ns, '-6', 'addr', 'del', a, 'dev', end.ifname], { reject: false });
        }
      }),
    );
    await run('ip', [...ns, 'addr', 'add', addrs[0], 'dev', end.ifname]);
    await run('ip', [...ns, '-6', 'addr', 'add', addrs[1], 'dev', end.ifname, 'nodad']);
    await run('ip', [...ns, 'link', 'set', end.ifname, 'up']);
  }

  private async linkLocals(end: End): Promise<string[]> {
    const ns = end.netns ? ['-n', end.netns] : [];
    const [info] = await runJson<{ addr_info: { family: string; local: string; prefixlen: number; scope: string }[] }[]>('ip', [
      ...ns,
      '-json',
      '-6',
      'addr',
      'show',
      'dev',
      end.ifname,
    ]);
    return (info?.addr_info ?? []).filter((a) => a.scope === 'link').map((a) => `${a.local}/${a.prefixlen}`);
  }

  protected device(driver: DriverInfo): DeviceIdentity {
    return { pciId: this.pciId, description: `${driver.name} port ${this.ends.dut.ifname}${this.pciId ? ` (PCI ${this.pciId})` : ''}` };
  }
}
