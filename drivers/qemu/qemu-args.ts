/** QEMU command lines (pure): the test guest, and the tiny payload of the KVM probe. */
import { AGENT_PORT_NAME, HOSTROOT_TAG } from './init-script.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

export type Accel = 'tcg' | 'kvm';

/** An x86 PC with nothing but what the caller adds, no display, under `accel`. */
export function pcArgs(accel: Accel): string[] {
  return ['-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'pc', '-accel', accel];
}

/** The CPU a guest gets: the host's under KVM, everything TCG emulates otherwise. */
export function cpuArgs(accel: Accel): string[] {
  return ['-cpu', accel === 'kvm' ? 'host' : 'max'];
}

/** Direct kernel boot with `memMiB` of memory; a reboot (the init's panic) ends QEMU. */
export function bootArgs(c: { memMiB: number; kernel: string; initrd: string; cmdline: string }): string[] {
  return ['-m', `${c.memMiB}M`, '-no-reboot', '-kernel', c.kernel, '-initrd', c.initrd, '-append', c.cmdline];
}

/** The agent's virtio-serial port on QEMU's stdio, its controller given as a `-device` value (bus and all). */
export function agentPortArgs(controller: string): string[] {
  return [
    '-device',
    controller,
    '-chardev',
    'stdio,id=agent,signal=off',
    '-device',
    `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
  ];
}

export interface GuestQemuConfig {
  accel: Accel;
  memMiB: number;
  /** vmlinux (PVH) or bzImage. */
  kernel: string;
  initrd: string;
  cmdline: string;
  /** QEMU `-device` name of the NIC under test. */
  device: string;
  mac: string;
  /** Tap device the NIC's backend opens (QEMU runs in the tap's netns). */
  tap: string;
  vnetHdr: boolean;
}

/**
 * The guest: no default devices (the caller adds the serial console), the
 * agent's virtio-serial port on stdio, the host's root read-only over 9p.
 * `-machine pc` (i440FX): the older NICs are conventional PCI devices.
 */
export function guestArgs(c: GuestQemuConfig): string[] {
  return [
    ...pcArgs(c.accel),
    ...cpuArgs(c.accel),
    '-smp',
    '1',
    ...bootArgs(c),
    '-virtfs',
    `local,path=/,mount_tag=${HOSTROOT_TAG},security_model=none,readonly=on,multidevs=remap`,
    ...agentPortArgs('virtio-serial-pci'),
    '-netdev',
    `tap,id=dutnet,ifname=${c.tap},script=no,downscript=no,vnet_hdr=${c.vnetHdr ? 'on' : 'off'}`,
    '-device',
    `${c.device},netdev=dutnet,mac=${c.mac}`,
  ];
}

/** I/O port of the probe's isa-debug-exit device. */
const PROBE_EXIT_PORT = 0xf4;
/** Byte the probe writes; QEMU then exits with (byte << 1) | 1. */
const PROBE_BYTE = 0x2a;
export const PROBE_EXIT_CODE = (PROBE_BYTE << 1) | 1;

/**
 * A 64 KiB BIOS whose reset vector (the last 16 bytes) writes PROBE_BYTE to
 * the isa-debug-exit port: QEMU exits with PROBE_EXIT_CODE exactly when the
 * guest CPU ran an instruction.
 */
export function probeRom(): Buffer {
  const rom = Buffer.alloc(0x10000, 0xf4); // hlt everywhere
  const code = [0xb0, PROBE_BYTE, 0xe6, PROBE_EXIT_PORT, 0xf4, 0xeb, 0xfd]; // mov al,imm; out imm8,al; hlt; jmp hlt
  Buffer.from(code).copy(rom, 0xfff0);
  return rom;
}

export function probeArgs(accel: Accel, romPath: string): string[] {
  return [
    ...pcArgs(accel),
    '-m',
    '16M',
    '-no-reboot',
    '-bios',
    romPath,
    '-device',
    `isa-debug-exit,iobase=0x${PROBE_EXIT_PORT.toString(16)},iosize=1`,
  ];
}
