import { describe, expect, it } from 'vitest';
import { consoleTail, diagnoseGuest, parseNicLine } from '../../drivers/qemu/console.js';
import { AGENT_PORT_NAME, BASE_MODULES, initScript, kernelCmdline, PROBE_CMDLINE, PROBE_OK } from '../../drivers/qemu/init-script.js';
import { guestArgs, PROBE_EXIT_CODE, probeArgs, probeRom } from '../../drivers/qemu/qemu-args.js';

const params = {
  mac: '52:54:00:12:34:56',
  ifname: 'eth0',
  ipv4: '198.18.3.1/24',
  ipv6: '2001:db8:3::1/64',
  peerIpv4: '198.18.3.2',
  peerIpv6: '2001:db8:3::2',
  peerMac: '02:00:00:00:00:02',
  node: '/usr/bin/node',
  agent: '/work/main/dist/harness/agent/main.js',
};

describe('guest kernel command line', () => {
  it('carries every per-guest fact as a nicmatrix.* word after the quiet console settings', () => {
    const line = kernelCmdline({ ...params, extra: ['e1000.debug=16'] });
    expect(line.startsWith('console=ttyS0 quiet panic=-1 ')).toBe(true);
    for (const w of [
      'nicmatrix.mac=52:54:00:12:34:56',
      'nicmatrix.ip4=198.18.3.1/24',
      'nicmatrix.ip6=2001:db8:3::1/64',
      'nicmatrix.peermac=02:00:00:00:00:02',
      `nicmatrix.port=${AGENT_PORT_NAME}`,
      'nicmatrix.agent=/work/main/dist/harness/agent/main.js',
    ]) {
      expect(line.split(' ')).toContain(w);
    }
    expect(line.endsWith(' e1000.debug=16')).toBe(true);
  });
  it('refuses values the init could not read back as one word', () => {
    expect(() => kernelCmdline({ ...params, agent: '/my project/main.js' })).toThrow(/nicmatrix.agent must be one word/);
    expect(() => kernelCmdline({ ...params, node: 'a"b' })).toThrow(/nicmatrix.node/);
    expect(() => kernelCmdline({ ...params, extra: ['x'.repeat(2100)] })).toThrow(/at most 2047 characters/);
  });
  it('has a probe variant that asks the init to power off at once', () => {
    expect(PROBE_CMDLINE.split(' ')).toContain('nicmatrix.probe=1');
    expect(initScript()).toContain(`say "probe ok"`);
    expect(PROBE_OK).toBe('nicmatrix-init: probe ok');
  });
});

describe('guest init script', () => {
  const script = initScript();
  it('is a busybox script that reads each nicmatrix.* word it is given', () => {
    expect(script.startsWith('#!/bin/busybox sh\n')).toBe(true);
    for (const k of ['mac', 'ifname', 'ip4', 'ip6', 'peer4', 'peer6', 'peermac', 'node', 'agent', 'port'])
      expect(script).toContain(`nicmatrix.${k}=*)`);
  });
  it('loads the base modules, then drivers by modalias on the pci and virtio buses', () => {
    expect(script).toContain(`modprobe -q -a ${BASE_MODULES.join(' ')}`);
    expect(script).toMatch(/for bus in pci virtio; do/);
    expect(script.indexOf('modprobe -q -a virtio_pci')).toBeLessThan(script.indexOf('for bus in pci virtio'));
  });
  it('mounts the host root read-only over 9p with proc, sys, dev, tmp inside it', () => {
    expect(script).toMatch(/mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=\d+ hostroot \/host/);
    for (const m of ['proc proc /host/proc', 'sysfs sysfs /host/sys', 'devtmpfs devtmpfs /host/dev', 'tmpfs tmpfs /host/tmp'])
      expect(script).toContain(`mount -t ${m}`);
  });
  it('configures the NIC with nodad and static neighbours, and serves the agent on one read-write open of the port', () => {
    expect(script).toContain('ip -6 addr add "$NM_IP6" dev "$IF" nodad');
    expect(script).toContain('ip neigh replace "$NM_PEER4" lladdr "$NM_PEERMAC" dev "$IF" nud permanent');
    expect(script).toContain('H "$NM_NODE" "$NM_AGENT" <>"$PORT" >&0');
    // The static native agent runs by itself.
    expect(script).toContain('if [ "$NM_NODE" = none ]; then H "$NM_AGENT" <>"$PORT" >&0;');
    expect(script).toContain('say "nic ifname=$IF');
  });
  it('never lets PID 1 return: every failure and the agent exit power off', () => {
    const lines = script.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual(['poweroff -f', 'sleep 10']);
    expect(script).toMatch(/fail\(\) \{ say "FAILED: \$\*"; poweroff -f; sleep 10; \}/);
  });
});

describe('QEMU command lines', () => {
  const cfg = {
    accel: 'tcg' as const,
    memMiB: 256,
    kernel: '/k',
    initrd: '/i',
    cmdline: 'quiet',
    device: 'e1000',
    mac: '52:54:00:00:00:01',
    tap: 'nmtap',
    vnetHdr: false,
  };
  const pairs = (args: string[]) => args.map((a, i) => `${a} ${args[i + 1] ?? ''}`);
  it('starts a guest with no default devices, the agent on stdio and the tap without vnet headers', () => {
    const args = guestArgs(cfg);
    const p = pairs(args);
    for (const want of ['-accel tcg', '-cpu max', '-m 256M', '-machine pc', '-chardev stdio,id=agent,signal=off', '-display none'])
      expect(p).toContain(want);
    expect(args).toContain('-nodefaults');
    expect(args).toContain('-no-reboot');
    expect(p).toContain('-netdev tap,id=dutnet,ifname=nmtap,script=no,downscript=no,vnet_hdr=off');
    expect(p).toContain('-device e1000,netdev=dutnet,mac=52:54:00:00:00:01');
    expect(p).toContain('-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap');
    expect(p).toContain(`-device virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`);
  });
  it('uses the host CPU under KVM and vnet headers when asked', () => {
    const p = pairs(guestArgs({ ...cfg, accel: 'kvm', vnetHdr: true }));
    expect(p).toContain('-cpu host');
    expect(p.some((x) => x.includes('vnet_hdr=on'))).toBe(true);
  });
  it('builds a probe ROM whose reset vector writes to isa-debug-exit', () => {
    const rom = probeRom();
    expect(rom.length).toBe(0x10000);
    // mov al, imm8; out 0xf4, al
    expect([...rom.subarray(0xfff0, 0xfff4)]).toEqual([0xb0, (PROBE_EXIT_CODE - 1) / 2, 0xe6, 0xf4]);
    expect(pairs(probeArgs('kvm', '/r.rom'))).toContain('-device isa-debug-exit,iobase=0xf4,iosize=1');
    expect(pairs(probeArgs('kvm', '/r.rom'))).toContain('-bios /r.rom');
  });
});

describe('guest console reading', () => {
  it('reads the NIC facts the init printed', () => {
    const text = 'noise\r\nnicmatrix-init: nic ifname=eth0 bus=0000:00:04.0 pci=8086:100e:1af4:1100 driver=e1000\r\nmore\n';
    expect(parseNicLine(text)).toEqual({ ifname: 'eth0', bus: '0000:00:04.0', pci: '8086:100e:1af4:1100', driver: 'e1000' });
    expect(parseNicLine('nothing here')).toBeUndefined();
  });
  it('names the most specific cause of a failed guest', () => {
    expect(diagnoseGuest('x\nnicmatrix-init: FAILED: no network interface has MAC 52:54\n', { code: 0, signal: null })).toBe(
      'the guest init failed: no network interface has MAC 52:54',
    );
    const noFirmware = [
      '[    8.77] e100 0000:00:04.0: firmware: failed to load e100/d102e_ucode.bin (-2)',
      '[    8.78] e100 0000:00:04.0: firmware: failed to load e100/d102e_ucode.bin (-2)',
      'RTNETLINK answers: No such file or directory',
      'nicmatrix-init: FAILED: ip link set eth0 up',
    ].join('\n');
    expect(diagnoseGuest(noFirmware, { code: 0, signal: null })).toBe(
      'the guest init failed: ip link set eth0 up (the driver could not load its firmware e100/d102e_ucode.bin: the guest image has no such file)',
    );
    expect(diagnoseGuest('[ 1.2] Kernel panic - not syncing: No working init found.\n', { code: 0, signal: null })).toBe(
      'the guest kernel panicked: No working init found.',
    );
    expect(diagnoseGuest('qemu-system-x86_64: -netdev tap: could not open /dev/net/tun\n', { code: 1, signal: null })).toBe(
      'QEMU exited with code 1: -netdev tap: could not open /dev/net/tun',
    );
    expect(diagnoseGuest('booting\n', { code: null, signal: 'SIGKILL' })).toBe('QEMU was killed by SIGKILL');
    expect(diagnoseGuest('qemu-system-x86_64: terminating on signal 15 from pid 7\n', { code: 0, signal: null })).toBe(
      'QEMU exited with code 0',
    );
    expect(diagnoseGuest('nicmatrix-init: agent exited with status 2\n', { code: 0, signal: null })).toBe(
      "QEMU exited with code 0 after the guest's agent exited with status 2",
    );
    expect(diagnoseGuest('[ 0.5] Run /init\n', null)).toBe(
      'QEMU is still running but the guest does not answer (hung?); last console line: [ 0.5] Run /init',
    );
    expect(diagnoseGuest('', null)).toMatch(/the console is empty/);
  });
  it('cuts the console tail at a line start', () => {
    expect(consoleTail('aaaa\nbbbb\ncccc\n', 8)).toBe('cccc\n');
    expect(consoleTail('short', 100)).toBe('short');
  });
});
