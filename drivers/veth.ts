/** `veth`: a veth pair, each end in a fresh netns of its own. */
import type { DeviceIdentity } from '../matrix/record.js';
import { LocalDut } from './local.js';
import { ifName, netnsName, nextInstance } from './names.js';
import { addressPair, configureAddresses, createNetns, createVethPair, pinNeighbours } from './netns.js';
import type { LinkInfo } from './types.js';

export class VethDut extends LocalDut {
  readonly kind = 'veth' as const;
  /** Namespaces and names, exposed for tests that attach faults to the DUT. */
  names = { dutNetns: '', peerNetns: '', dutIf: '', peerIf: '' };

  protected async setup(signal: AbortSignal): Promise<LinkInfo> {
    const n = this.names;
    n.dutNetns = netnsName('dut');
    n.peerNetns = netnsName('peer');
    n.dutIf = ifName('d');
    n.peerIf = ifName('p');
    this.teardowns.push(await createNetns(n.dutNetns));
    this.teardowns.push(await createNetns(n.peerNetns));
    await createVethPair({ netns: n.dutNetns, ifname: n.dutIf }, { netns: n.peerNetns, ifname: n.peerIf });
    const plan = addressPair(nextInstance());
    await configureAddresses(n.dutNetns, n.dutIf, plan.dut);
    await configureAddresses(n.peerNetns, n.peerIf, plan.peer);
    await this.startAgent(['dut'], n.dutNetns, signal);
    await this.startAgent(['peer'], n.peerNetns, signal);
    const [d, p] = await Promise.all([
      this.run('dut', 'link.info', { ifname: n.dutIf }),
      this.run('peer', 'link.info', { ifname: n.peerIf }),
    ]);
    await pinNeighbours(
      { netns: n.dutNetns, ifname: n.dutIf, mac: d.mac, plan: plan.dut },
      { netns: n.peerNetns, ifname: n.peerIf, mac: p.mac, plan: plan.peer },
    );
    return {
      dut: { ifname: n.dutIf, mac: d.mac, mtu: d.mtu, ipv4: plan.dut.ipv4, ipv6: plan.dut.ipv6 },
      peer: { ifname: n.peerIf, mac: p.mac, mtu: p.mtu, ipv4: plan.peer.ipv4, ipv6: plan.peer.ipv6 },
      sameInterface: false,
    };
  }

  protected device(): DeviceIdentity {
    return { model: 'veth', description: 'Linux virtual Ethernet pair' };
  }
}
