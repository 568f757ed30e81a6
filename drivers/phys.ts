/**
 * `phys:DUT,PEER`: interfaces that already exist (a NIC port cabled to
 * another). Nothing is created or deleted; the test addresses, neighbour
 * entries and link state the harness changes are put back on stop.
 * Each end lives on a `PortHost`: this host (in a namespace or not), or, for
 * `phys:DUT_IF,ssh://[USER@]HOST[:PORT]/[NETNS/]PEER_IF`, another host whose
 * commands and agent run over ssh (like the kernel's REMOTE_TYPE=ssh driver
 * tests). The borrowing is the same whatever runs the commands.
 */
import { cleanup } from '../harness/sys/cleanup.js';
import { NicmatrixError } from '../harness/codec/errors.js';
import { parseJsonOutput } from '../harness/sys/exec.js';
import type { DeviceIdentity, DriverInfo } from '../matrix/record.js';
import { LocalDut } from './local.js';
import { nextInstance } from './names.js';
import { type AddressPlan, addressPair, configureAddresses, ipAt, pinNeighbours, type Place, readPciId, unpinNeighbour } from './netns.js';
import type { LinkInfo, PortHost, Side, TargetFacts } from './types.js';

/** One port of the pair: its name, its namespace, and the host its commands run on. */
export interface PortEnd {
  netns?: string;
  ifname: string;
  host: PortHost;
}

export class PhysDut extends LocalDut {
  readonly kind = 'phys' as const;
  private pciId: string | undefined;

  constructor(
    spec: string,
    private readonly ends: Record<Side, PortEnd>,
  ) {
    super(spec);
  }

  /** Where `side`'s commands run: its namespace on its host. */
  private place(side: Side): Place & { ifname: string } {
    const { netns, ifname, host } = this.ends[side];
    return { netns, ifname, run: host.run };
  }

  private where(side: Side): string {
    const end = this.ends[side];
    return end.host.where(end.netns);
  }

  protected async setup(signal: AbortSignal): Promise<LinkInfo> {
    const { dut, peer } = this.ends;
    // A remote host is checked before anything changes there or here.
    for (const host of new Set([dut.host, peer.host])) await host.check();
    // A port that does not exist is said first: it is the cause, whatever else the spec gets wrong.
    for (const side of ['dut', 'peer'] as const) await this.assertExists(side);
    if (dut.host.id === peer.host.id && (dut.netns ?? '') === (peer.netns ?? '')) {
      throw new NicmatrixError(
        'TARGET_SPEC',
        `${this.spec}: DUT ${dut.ifname} and peer ${peer.ifname} are in the same network namespace; traffic between them would go through loopback, not the wire. Move the peer port into a namespace (ip link set ${peer.ifname} netns NAME) and give it as NAME/${peer.ifname}`,
      );
    }
    const plan = addressPair(0x100 + (nextInstance() & 0xff));
    // Registered first so it runs last: once our addresses are gone nothing resolves the peer again, so no
    // INCOMPLETE entry a late packet made between the two steps outlives the run.
    this.teardowns.push(
      cleanup.register(`neighbour entries on ${this.spec}`, async () => {
        await unpinNeighbour(this.place('dut'), plan.peer);
        await unpinNeighbour(this.place('peer'), plan.dut);
      }),
    );
    await this.borrow('dut', plan.dut);
    await this.borrow('peer', plan.peer);
    this.pciId = await readPciId(this.place('dut'));
    await this.startAgent(['dut'], dut.netns, signal, dut.host);
    await this.startAgent(['peer'], peer.netns, signal, peer.host);
    const [d, p] = await Promise.all([
      this.run('dut', 'link.info', { ifname: dut.ifname }),
      this.run('peer', 'link.info', { ifname: peer.ifname }),
    ]);
    // Static entries both ways: no ARP/ND mixes into captures, on either host.
    await pinNeighbours({ ...this.place('dut'), mac: d.mac, plan: plan.dut }, { ...this.place('peer'), mac: p.mac, plan: plan.peer });
    return {
      dut: { ifname: dut.ifname, mac: d.mac, mtu: d.mtu, ipv4: plan.dut.ipv4, ipv6: plan.dut.ipv6 },
      peer: { ifname: peer.ifname, mac: p.mac, mtu: p.mtu, ipv4: plan.peer.ipv4, ipv6: plan.peer.ipv6 },
      sameInterface: false,
    };
  }

  private async assertExists(side: Side): Promise<void> {
    const { ifname } = this.ends[side];
    const r = await ipAt(this.place(side), ['-json', 'link', 'show', 'dev', ifname], false);
    if (r.exitCode !== 0) {
      throw new NicmatrixError(
        'TARGET_SPEC',
        `${this.spec}: expected an existing interface ${ifname} in ${this.where(side)}, found none (${r.stderr.trim()})`,
      );
    }
  }

  /** Adds our addresses and brings the link up; the teardown (registered first) puts both back. */
  private async borrow(side: Side, plan: AddressPlan): Promise<void> {
    const place = this.place(side);
    const { ifname } = place;
    const [link] = parseJsonOutput<{ flags: string[] }[]>(await ipAt(place, ['-json', 'link', 'show', 'dev', ifname]));
    if (!link) throw new NicmatrixError('TARGET_SETUP', `${this.spec}: expected ip link show dev ${ifname} to list it, found no link`);
    const wasUp = link.flags.includes('UP');
    const linkLocals = async (): Promise<string[]> => {
      const r = await ipAt(place, ['-json', '-6', 'addr', 'show', 'dev', ifname]);
      // No output at all: no IPv6 on the port, so no link-local address either.
      const [info] = r.stdout.trim() ? parseJsonOutput<{ addr_info?: { local: string; prefixlen: number; scope: string }[] }[]>(r) : [];
      return (info?.addr_info ?? []).filter((a) => a.scope === 'link').map((a) => `${a.local}/${a.prefixlen}`);
    };
    const before = await linkLocals();
    const addrs = [`${plan.ipv4}/${plan.ipv4Prefix}`, `${plan.ipv6}/${plan.ipv6Prefix}`];
    this.teardowns.push(
      cleanup.register(`restore ${ifname} in ${this.where(side)}`, async () => {
        for (const a of addrs) await ipAt(place, ['addr', 'del', a, 'dev', ifname], false);
        if (!wasUp) await ipAt(place, ['link', 'set', ifname, 'down'], false);
        // Carrier we brought up made the kernel add a link-local address: it was not there, so it goes.
        for (const a of await linkLocals()) if (!before.includes(a)) await ipAt(place, ['-6', 'addr', 'del', a, 'dev', ifname], false);
      }),
    );
    await configureAddresses(place.netns, ifname, plan, place.run);
  }

  protected device(driver: DriverInfo): DeviceIdentity {
    return { pciId: this.pciId, description: `${driver.name} port ${this.ends.dut.ifname}${this.pciId ? ` (PCI ${this.pciId})` : ''}` };
  }

  protected override dimensions(): Record<string, string> {
    return this.ends.peer.host.kind === 'ssh' ? { peer: 'ssh' } : {};
  }

  override async collect(): Promise<TargetFacts> {
    const facts = await super.collect();
    const remote = this.ends.peer.host.evidence();
    if (!remote) return facts;
    const { ifname, netns } = this.ends.peer;
    // The peer's agent does not change what the DUT is judged on: evidence, not a dimension of the cell.
    return { ...facts, evidence: { ...facts.evidence, remotePeer: { host: remote.host, ifname, netns, agent: remote.agent } } };
  }
}
