/**
 * QEMU guests as devices under test, for real: boot e1000 and rtl8139 under
 * TCG, check the bound driver and traffic both ways through the tap, and show
 * that a crashed, panicking or hung guest gives a GUEST error with nothing
 * left behind.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from '../../harness/sys/cleanup.js';
import { isNicmatrixError, type NicmatrixError } from '../../harness/codec/errors.js';
import { QemuDut } from '../../drivers/qemu/dut.js';
import { ensureGuestImage } from '../../drivers/qemu/image.js';
import { chooseAccel, probeBoot, probeKvm, probeRomRuns } from '../../drivers/qemu/accel.js';
import { catalogueMismatches, findQemuModel } from '../../drivers/qemu/catalogue.js';
import type { LinkInfo } from '../../drivers/types.js';
import { netnsOf } from '../helpers/leftovers.js';

const duts: QemuDut[] = [];
afterAll(async () => {
  for (const d of duts) await d.stop();
});

function qemu(model: string, options: Record<string, string> = {}): QemuDut {
  const spec = [`qemu:${model}`, ...Object.entries(options).map(([k, v]) => `${k}=${v}`)].join(',');
  const dut = new QemuDut({ kind: 'qemu', spec, model, options });
  duts.push(dut);
  return dut;
}

async function failure(p: Promise<unknown>): Promise<NicmatrixError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isNicmatrixError(e)) throw new Error(`expected a NicmatrixError, found ${String(e)}`);
  return e;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What a stopped target must not leave: its netns (and so its tap), its QEMU. */
async function expectNothingLeft(dut: QemuDut, pid: number | undefined): Promise<void> {
  expect(await netnsOf(process.pid)).not.toContain(dut.names.peerNetns);
  const links = await execa('ip', ['-o', 'link', 'show'], { reject: false });
  if (dut.names.tap) expect(links.stdout).not.toContain(dut.names.tap);
  if (pid !== undefined) expect(alive(pid)).toBe(false);
}

beforeAll(async () => {
  // Downloading and unpacking the kernel happens once per cache; later runs find it.
  await ensureGuestImage();
}, 600_000);

describe.each(['e1000', 'rtl8139'])('qemu:%s guest', (model) => {
  const dut = qemu(model);
  let link: LinkInfo;
  beforeAll(async () => {
    link = await dut.start(new AbortController().signal);
  }, 180_000);

  it('records the driver that really bound, as sysfs and ethtool -i both name it', async () => {
    const facts = await dut.collect();
    const expected = findQemuModel(model)!;
    expect(facts.driver.name).toBe(expected.driver);
    expect(facts.evidence.sysfsDriver).toBe(expected.driver);
    expect(facts.device.pciId?.startsWith(expected.pciId)).toBe(true);
    expect(facts.device.model).toBe(model);
    expect(facts.kernel).toBe((await ensureGuestImage()).release);
    expect(facts.dimensions).toEqual({ accel: expect.stringMatching(/^(tcg|kvm)$/), backend: 'tap' });
    expect(String(facts.evidence.console)).toContain('nicmatrix-init: agent starting');
    // What the catalogue says the driver advertises, it advertises.
    expect(catalogueMismatches(expected, facts.driver.name, facts.features)).toEqual([]);
    expect(facts.evidence.catalogueMismatches).toEqual([]);
  });

  it('carries a UDP datagram from the guest to the peer and one back', async () => {
    expect(link.dut.ipv4).toMatch(/^198\.1[89]\./);
    expect(link.peer.ipv6).toMatch(/^2001:db8:/);
    const toPeer = Buffer.from(`guest->peer via ${model}`);
    const cap = await dut.run('peer', 'capture.start', { ifname: link.peer.ifname });
    await dut.run('dut', 'udp.send', {
      family: 4,
      src: link.dut.ipv4,
      dst: link.peer.ipv4,
      sport: 40001,
      dport: 40002,
      payloads: [toPeer.toString('base64')],
    });
    const seen = await dut.run('peer', 'capture.stop', { id: cap.id, expect: 1, timeoutMs: 20_000, ignoreOutgoing: true });
    expect(seen.frames.some((f) => Buffer.from(f.data, 'base64').includes(toPeer))).toBe(true);

    const toGuest = Buffer.from(`peer->guest via ${model}`);
    const gcap = await dut.run('dut', 'capture.start', { ifname: link.dut.ifname });
    await dut.run('peer', 'udp.send', {
      family: 6,
      src: link.peer.ipv6,
      dst: link.dut.ipv6,
      sport: 40003,
      dport: 40004,
      payloads: [toGuest.toString('base64')],
    });
    const got = await dut.run('dut', 'capture.stop', { id: gcap.id, expect: 1, timeoutMs: 20_000, ignoreOutgoing: true });
    expect(got.frames.some((f) => Buffer.from(f.data, 'base64').includes(toGuest))).toBe(true);
  });

  it('stops cleanly: QEMU gone, tap and netns removed', async () => {
    const pid = dut.qemuPid;
    expect(pid).toBeTypeOf('number');
    await dut.stop();
    await expectNothingLeft(dut, pid);
    await dut.stop(); // twice is fine
  });
});

describe('qemu:virtio-net-pci,vnet_hdr=on', () => {
  it('offers checksum offload only with vnet headers, and records that backend', async () => {
    const dut = qemu('virtio-net-pci', { vnet_hdr: 'on' });
    const link = await dut.start(new AbortController().signal);
    const facts = await dut.collect();
    expect(facts.driver.name).toBe('virtio_net');
    expect(facts.dimensions.backend).toBe('tap+vnet_hdr');
    // With vnet headers QEMU may leave the checksum to the host kernel: the peer sees it still partial.
    expect(facts.features['tx-checksum-ip-generic']?.active).toBe(true);
    const payload = Buffer.from('partial checksum through vnet_hdr');
    const cap = await dut.run('peer', 'capture.start', { ifname: link.peer.ifname });
    await dut.run('dut', 'udp.send', {
      family: 4,
      src: link.dut.ipv4,
      dst: link.peer.ipv4,
      sport: 40005,
      dport: 40006,
      payloads: [payload.toString('base64')],
    });
    const seen = await dut.run('peer', 'capture.stop', { id: cap.id, expect: 1, timeoutMs: 20_000, ignoreOutgoing: true });
    const frame = seen.frames.find((f) => Buffer.from(f.data, 'base64').includes(payload));
    expect(frame).toBeDefined();
    expect(frame!.status & 8).toBe(8); // TP_STATUS_CSUMNOTREADY
    const pid = dut.qemuPid;
    await dut.stop();
    await expectNothingLeft(dut, pid);
  });
});

describe('accelerator choice', () => {
  it("the probe payloads run under TCG, so a failure under KVM is KVM's", async () => {
    expect(await probeRomRuns('tcg')).toEqual({ ok: true, detail: 'ran the reset-vector ROM' });
    // TCG boots slower than KVM: it gets a generous limit, the point is the init's answer.
    expect(await probeBoot(await ensureGuestImage(), 'tcg', 60_000)).toEqual({ ok: true, detail: 'ran the guest kernel to its init' });
  });

  it('auto takes KVM only when the probe booted the guest with it, else falls back to TCG saying why; probed once', async () => {
    const image = await ensureGuestImage();
    const probe = probeKvm(image);
    expect(probeKvm(image)).toBe(probe);
    const kvm = await probe;
    const decision = await chooseAccel('auto', image);
    if (kvm.ok) {
      expect(decision).toEqual({ accel: 'kvm', reason: kvm.detail });
    } else {
      expect(decision).toEqual({ accel: 'tcg', reason: `fell back to TCG: ${kvm.detail}` });
      expect(kvm.detail).toMatch(/^(\/dev\/kvm cannot be opened|KVM (did not finish|ended with))/);
    }
    expect(await chooseAccel('tcg', image)).toEqual({ accel: 'tcg', reason: 'accel=tcg requested' });
  });
});

describe('guest faults', () => {
  it('QEMU killed mid-run: the next action fails with GUEST naming SIGKILL, and stop leaves nothing', async () => {
    const dut = qemu('e1000', { accel: 'tcg' });
    await dut.start(new AbortController().signal);
    const pid = dut.qemuPid!;
    process.kill(pid, 'SIGKILL');
    const e = await failure(dut.run('dut', 'ethtool.features', { ifname: 'eth0' }));
    expect(e.code).toBe('GUEST');
    expect(e.message).toMatch(/qemu:e1000.*QEMU was killed by SIGKILL.*while running ethtool\.features/);
    expect(isNicmatrixError(e.cause, 'AGENT_EXITED')).toBe(true);
    expect(e.details.console).toContain('nicmatrix-init:');
    await dut.stop();
    await expectNothingLeft(dut, pid);
  });

  it('a guest kernel that panics at boot fails start with GUEST, the panic and the console', async () => {
    // No initramfs init and no root device: the kernel panics, panic=-1 reboots, -no-reboot ends QEMU.
    const dut = qemu('e1000', { accel: 'tcg', append: 'rdinit=/nonexistent' });
    const e = await failure(dut.start(new AbortController().signal));
    expect(e.code).toBe('GUEST');
    expect(e.message).toMatch(/the guest kernel panicked: .*(VFS|init)/);
    expect(String(e.details.console)).toContain('Kernel panic');
    await expectNothingLeft(dut, undefined);
    expect(dut.qemuPid).toBeUndefined();
  });

  it('a guest that does not come up in time fails start with GUEST, and QEMU is stopped', async () => {
    const dut = qemu('e1000', { accel: 'tcg', boot_timeout: '1' });
    const e = await failure(dut.start(new AbortController().signal));
    expect(e.code).toBe('GUEST');
    expect(e.message).toMatch(/QEMU is still running but the guest does not answer/);
    expect(isNicmatrixError(e.cause, 'TIMEOUT')).toBe(true);
    await expectNothingLeft(dut, undefined);
  });

  it('a frozen guest (QEMU stopped) turns an action timeout into GUEST "does not answer"', async () => {
    const dut = qemu('e1000', { accel: 'tcg' });
    await dut.start(new AbortController().signal);
    const pid = dut.qemuPid!;
    process.kill(pid, 'SIGSTOP');
    const e = await failure(dut.run('dut', 'agent.ping', {}, { timeoutMs: 2_000 }));
    expect(e.code).toBe('GUEST');
    expect(e.message).toMatch(/does not answer \(hung\?\).*while running agent\.ping/);
    await dut.stop();
    await expectNothingLeft(dut, pid);
  });

  it('an unknown model or option is a TARGET_SPEC error before anything is created', () => {
    expect(() => new QemuDut({ kind: 'qemu', spec: 'qemu:eepro100', model: 'eepro100', options: {} })).toThrow(
      /unknown QEMU model "eepro100"; expected one of: e1000, /,
    );
    expect(() => new QemuDut({ kind: 'qemu', spec: 'qemu:e1000,cpu=x', model: 'e1000', options: { cpu: 'x' } })).toThrow(
      /unknown option "cpu"/,
    );
  });

  it('leaves no registered teardown behind', () => {
    expect(cleanup.size).toBe(0);
  });
});
