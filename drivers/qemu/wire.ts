/**
 * The wire of a QEMU target: a tap device created directly in the peer's
 * netns. QEMU itself runs in that netns (`ip netns exec`) and opens the tap by
 * name, so the tap never exists in the host's own namespace and nothing has to
 * be moved while QEMU holds it.
 */
import { cleanup, type Teardown } from '../../harness/sys/cleanup.js';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { run, runJson } from '../../harness/sys/exec.js';

/** Creates a tap in `netns` (teardown registered first: deleting it also detaches QEMU's queue). */
export async function createTap(netns: string, tap: string): Promise<Teardown> {
  const teardown = cleanup.register(`tap ${netns}/${tap}`, async () => {
    await run('ip', ['-n', netns, 'link', 'delete', tap], { reject: false });
  });
  await run('ip', ['-n', netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  return teardown;
}

/** MAC of an interface in a netns. */
export async function tapMac(netns: string, ifname: string): Promise<string> {
  const [info] = await runJson<{ address?: string }[]>('ip', ['-n', netns, '-json', 'link', 'show', 'dev', ifname]);
  if (!info?.address)
    throw new NicmatrixError('TARGET_SETUP', `ip -n ${netns} link show ${ifname}: expected the tap's MAC address, found none`);
  return info.address;
}
