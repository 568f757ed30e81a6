/**
 * `phys:DUT_IF,ssh://[USER@]HOST[:PORT]/[NETNS/]PEER_IF`: a local NIC port
 * whose peer port is on another host, reached over ssh (like the kernel's
 * REMOTE_TYPE=ssh driver tests). The peer's agent runs there over the ssh
 * session; the test addresses, neighbour entries and link state changed on
 * either host are put back on stop. Nothing is created or deleted.
 */
import { cleanup } from '../harness/sys/cleanup.js';
import { NicmatrixError } from '../harness/codec/errors.js';
import { run, type RunResult } from '../harness/sys/exec.js';
import type { DeviceIdentity, DriverInfo } from '../matrix/record.js';
import { LocalDut } from './local.js';
import { nextInstance } from './names.js';
import { addressPair, type AddressPlan, readPciId } from './netns.js';
import { describeRemote, type RemoteHost } from './remote-spec.js';
import { checkRemote, deployNativeAgent, type RemoteAgent, remoteRun, spawnSshAgent } from './ssh.js';
import type { LinkInfo, TargetFacts } from './types.js';

type End = { netns?: string; ifname: string };
/** Runs `ip ARGS` at one end: here, or on the remote host. */
type Ip = (args: string[], reject?: boolean) => Promise<RunResult>;

export class RemotePeerDut extends LocalDut {
  readonly kind = 'phys' as const;
  private pciId: string | undefined;
  private peerAgent: RemoteAgent = { kind: 'node' };

  constructor(
    spec: string,
    private readonly ends: { dut: End; peer: End; remote: RemoteHost },
  ) {
    super(spec);
  }

  private ipAt(side: 'dut' | 'peer'): Ip {
    const end = this.ends[side];
    const ns = end.netns ? ['-n', end.netns] : [];
    if (side === 'dut') return (args, reject = true) => run('ip', [...ns, ...args], { reject });
    return (args, reject = true) => remoteRun(this.ends.remote, ['ip', ...ns, ...args], { reject });
  }

  protected async setup(signal: AbortSignal): Promise<LinkInfo> {
    const { dut, peer, remote } = this.ends;
    const remoteAgent = await checkRemote(remote);
    for (const side of ['dut', 'peer'] as const) await this.assertExists(side);
    const plan = addressPair(0x100 + (nextInstance() & 0xff));
    const ends: [Ip, End, AddressPlan][] = [
      [this.ipAt('dut'), dut, plan.peer],
      [this.ipAt('peer'), peer, plan.dut],
    ];
    // Registered first so it runs last: once our addresses are gone nothing resolves the peer again, so no
    // INCOMPLETE entry a late packet made between the two steps outlives the run.
    this.teardowns.push(
      cleanup.register(`neighbour entries on ${this.spec}`, async () => {
        for (const [ip, end, other] of ends) {
          await ip(['neigh', 'del', other.ipv4, 'dev', end.ifname], false);
          await ip(['-6', 'neigh', 'del', other.ipv6, 'dev', end.ifname], false);
        }
      }),
    );
    await this.borrow('dut', plan.dut);
    await this.borrow('peer', plan.peer);
    this.pciId = await readPciId(dut);
    await this.startAgent(['dut'], dut.netns, signal);
    let nativePath: string | undefined;
    if (remoteAgent.kind === 'native') {
      const deployed = await deployNativeAgent(remote, signal);
      this.teardowns.push(deployed.teardown);
      nativePath = deployed.path;
      this.peerAgent = { kind: 'native', why: remoteAgent.why };
    }
    const peerAgent = await spawnSshAgent(`${this.spec} peer agent`, remote, peer.netns, signal, nativePath);
    this.teardowns.push({ label: 'remote peer agent', run: peerAgent.stop });
    this.agents.peer = peerAgent.client;
    const [d, p] = await Promise.all([
      this.run('dut', 'link.info', { ifname: dut.ifname }),
      this.run('peer', 'link.info', { ifname: peer.ifname }),
    ]);
    const pins: [Ip, End, AddressPlan, string][] = [
      [...ends[0], p.mac],
      [...ends[1], d.mac],
    ];
    // Static entries both ways: no ARP/ND mixes into captures, on either host.
    for (const [ip, end, other, mac] of pins) {
      await ip(['neigh', 'replace', other.ipv4, 'lladdr', mac, 'dev', end.ifname, 'nud', 'permanent']);
      await ip(['-6', 'neigh', 'replace', other.ipv6, 'lladdr', mac, 'dev', end.ifname, 'nud', 'permanent']);
    }
    return {
      dut: { ifname: dut.ifname, mac: d.mac, mtu: d.mtu, ipv4: plan.dut.ipv4, ipv6: plan.dut.ipv6 },
      peer: { ifname: peer.ifname, mac: p.mac, mtu: p.mtu, ipv4: plan.peer.ipv4, ipv6: plan.peer.ipv6 },
      sameInterface: false,
    };
  }

  private where(side: 'dut' | 'peer'): string {
    const end = this.ends[side];
    const host = side === 'dut' ? 'this host' : describeRemote(this.ends.remote);
    return end.netns ? `network namespace ${end.netns} on ${host}` : host;
  }

  private async assertExists(side: 'dut' | 'peer'): Promise<void> {
    const r = await this.ipAt(side)(['-json', 'link', 'show', 'dev', this.ends[side].ifname], false);
    if (r.exitCode !== 0) {
      throw new NicmatrixError(
        'TARGET_SPEC',
        `${this.spec}: expected an existing interface ${this.ends[side].ifname} in ${this.where(side)}, found none (${r.stderr.trim()})`,
      );
    }
  }

  /** Adds our addresses and brings the link up; the teardown (registered first) puts both back. */
  private async borrow(side: 'dut' | 'peer', plan: AddressPlan): Promise<void> {
    const ip = this.ipAt(side);
    const ifname = this.ends[side].ifname;
    const [link] = JSON.parse((await ip(['-json', 'link', 'show', 'dev', ifname])).stdout) as { flags: string[] }[];
    const linkLocals = async (): Promise<string[]> => {
      const [info] = JSON.parse((await ip(['-json', '-6', 'addr', 'show', 'dev', ifname])).stdout || '[]') as {
        addr_info?: { local: string; prefixlen: number; scope: string }[];
      }[];
      return (info?.addr_info ?? []).filter((a) => a.scope === 'link').map((a) => `${a.local}/${a.prefixlen}`);
    };
    const before = await linkLocals();
    const addrs = [`${plan.ipv4}/${plan.ipv4Prefix}`, `${plan.ipv6}/${plan.ipv6Prefix}`];
    this.teardowns.push(
      cleanup.register(`restore ${ifname} on ${this.where(side)}`, async () => {
        for (const a of addrs) await ip(['addr', 'del', a, 'dev', ifname], false);
        if (!link.flags.includes('UP')) await ip(['link', 'set', ifname, 'down'], false);
        // Carrier we brought up made the kernel add a link-local address: it was not there, so it goes.
        for (const a of await linkLocals()) if (!before.includes(a)) await ip(['-6', 'addr', 'del', a, 'dev', ifname], false);
      }),
    );
    await ip(['addr', 'add', addrs[0], 'dev', ifname]);
    await ip(['-6', 'addr', 'add', addrs[1], 'dev', ifname, 'nodad']);
    await ip(['link', 'set', ifname, 'up']);
  }

  protected device(driver: DriverInfo): DeviceIdentity {
    return { pciId: this.pciId, description: `${driver.name} port ${this.ends.dut.ifname}${this.pciId ? ` (PCI ${this.pciId})` : ''}` };
  }

  protected override dimensions(): Record<string, string> {
    return { peer: 'ssh' };
  }

  override async collect(): Promise<TargetFacts> {
    const facts = await super.collect();
    return {
      ...facts,
      evidence: {
        ...facts.evidence,
        remotePeer: {
          host: describeRemote(this.ends.remote),
          ifname: this.ends.peer.ifname,
          netns: this.ends.peer.netns,
          // The peer's agent does not change what the DUT is judged on: evidence, not a dimension of the cell.
          agent: this.peerAgent.kind === 'native' ? `native (${this.peerAgent.why})` : 'node',
        },
      },
    };
  }
}
