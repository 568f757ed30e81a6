/**
 * A device the driver marks vlan-challenged (e100 on an 82557) cannot carry an
 * 802.1Q sub-interface: the VLAN segmentation check says so from `ethtool -k`
 * as `unsupported`, never an error, while the tagged checksum checks, which
 * need no sub-interface on the DUT, still judge it.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureGuestImage } from '../../drivers/qemu/image.js';
import { nicmatrix, readRecord, tmpDir } from '../helpers/cli.js';

beforeAll(async () => {
  await ensureGuestImage();
}, 600_000);

describe('qemu:i82557b (vlan-challenged)', () => {
  it('tso/vlan is unsupported with the feature as proof; tx-csum/vlan is still judged', async () => {
    const out = path.join(tmpDir('qvlan'), 'run.json');
    const r = await nicmatrix(
      ['run', '--no-store', '--target', 'qemu:i82557b', '--checks', 'tso/vlan', '--checks', 'tx-csum/vlan', '--out', out],
      {
        timeoutMs: 400_000,
      },
    );
    const t = readRecord(out).targets[0]!;
    expect(t.driver.name).toBe('e100');
    const status = Object.fromEntries(t.results.map((x) => [`${x.check} [${x.variant}]`, x.status]));
    expect(status, r.stderr).toMatchObject({ 'tso/vlan [tso-hw-tag]': 'unsupported', 'tso/vlan [tso-sw-tag]': 'unsupported' });
    for (const x of t.results.filter((y) => y.check === 'tso/vlan')) {
      expect(x.message).toMatch(/^the device offers no 802\.1Q sub-interface: ethtool -k says vlan-challenged: on \[fixed\]/);
      expect(x.evidence.vlanChallenged).toMatchObject({ active: true, fixed: true });
    }
    for (const x of t.results.filter((y) => y.check === 'tx-csum/vlan')) expect(['pass', 'unsupported']).toContain(x.status);
    expect(r.exitCode).toBe(0);
  }, 420_000);
});
