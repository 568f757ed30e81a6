/** `lo`: loopback in a fresh netns; DUT and peer are the same interface. */
import os from 'node:os';
import type { DeviceIdentity, DriverInfo } from '../matrix/record.js';
import { LocalDut } from './local.js';
import { netnsName } from './names.js';
import { createNetns } from './netns.js';
import { run } from '../harness/sys/exec.js';
import type { LinkInfo } from './types.js';

export class LoopbackDut extends LocalDut {
  readonly kind = 'lo' as const;

  protected async setup(signal: AbortSignal): Promise<LinkInfo> {
    const ns = netnsName('lo');
    this.teardowns.push(await createNetns(ns));
    // Two addresses on lo so DUT and peer have distinct ends of the conversation.
    for (const a of ['198.18.0.1/32', '198.18.0.2/32']) await run('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'lo']);
    for (const a of ['2001:db8::1/128', '2001:db8::2/128']) await run('ip', ['-n', ns, '-6', 'addr', 'add', a, 'dev', 'lo', 'nodad']);
    await this.startAgent(['dut', 'peer'], ns, signal);
    const info = await this.run('dut', 'link.info', { ifname: 'lo' });
    const end = (n: number) => ({ ifname: 'lo', mac: info.mac, mtu: info.mtu, ipv4: `198.18.0.${n}`, ipv6: `2001:db8::${n}` });
    return { dut: end(1), peer: end(2), sameInterface: true };
  }

  protected override fallbackDriver(): DriverInfo {
    return { name: 'loopback', version: os.release(), firmware: '', bus: '' };
  }

  protected device(): DeviceIdentity {
    return { model: 'loopback', description: 'Linux loopback device' };
  }
}
