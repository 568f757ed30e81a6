import { describe, expect, it } from 'vitest';
import { catalogueMismatches, findQemuModel, nicModules, QEMU_MODELS } from '../../drivers/qemu/catalogue.js';

/** The thirteen eepro100 devices of `qemu-system-x86_64 -device help` (QEMU 7.2). */
const EEPRO100 = [
  'i82550',
  'i82551',
  'i82557a',
  'i82557b',
  'i82557c',
  'i82558a',
  'i82558b',
  'i82559a',
  'i82559b',
  'i82559c',
  'i82559er',
  'i82562',
  'i82801',
];

describe('QEMU model catalogue', () => {
  it('covers the models the matrix promises, each once: every i8255x chip QEMU emulates among them', () => {
    const names = QEMU_MODELS.map((m) => m.model);
    expect(names).toEqual([
      'e1000',
      'e1000-82544gc',
      'e1000-82545em',
      'e1000e',
      'virtio-net-pci',
      'rtl8139',
      ...EEPRO100,
      'sunhme',
      'tulip',
      'pcnet',
      'ne2k_pci',
      'vmxnet3',
    ]);
    expect(new Set(names).size).toBe(names.length);
  });
  it('maps models to the Linux drivers expected to bind', () => {
    const driver = (m: string) => findQemuModel(m)?.driver;
    expect(driver('e1000')).toBe('e1000');
    expect(driver('e1000-82545em')).toBe('e1000');
    expect(driver('rtl8139')).toBe('8139cp');
    expect(driver('i82557b')).toBe('e100');
    expect(driver('i82559er')).toBe('e100');
    for (const chip of EEPRO100) expect(findQemuModel(chip), chip).toMatchObject({ device: chip, driver: 'e100' });
    expect(findQemuModel('i82801')?.pciId).toBe('8086:2449');
    expect(findQemuModel('sunhme')).toMatchObject({ driver: 'sunhme', arch: 'sparc64', family: 'sunhme' });
    expect(driver('pcnet')).toBe('pcnet32');
    expect(driver('ne2k_pci')).toBe('ne2k-pci');
    expect(driver('virtio-net-pci')).toBe('virtio_net');
    expect(findQemuModel('eepro100')).toBeUndefined();
  });
  it('gives every model a well-formed PCI id and consistent offload claims', () => {
    for (const m of QEMU_MODELS) {
      expect(m.pciId, m.model).toMatch(/^[0-9a-f]{4}:[0-9a-f]{4}$/);
      expect(m.description.length, m.model).toBeGreaterThan(10);
      for (const f of m.txChecksum) expect(f, m.model).toMatch(/^tx-checksum-(ipv4|ipv6|ip-generic)$/);
    }
  });
  it('lists each guest module once, rivals included (8139too competes for the RTL8139)', () => {
    const mods = nicModules();
    expect(mods).toContain('8139cp');
    expect(mods).toContain('8139too');
    expect(mods.filter((m) => m === 'e1000')).toHaveLength(1);
    // sunhme is built into the sparc64 guest's own kernel, not loaded into the x86 image.
    expect(mods).not.toContain('sunhme');
    expect(mods).toEqual([...mods].sort());
  });
});

describe('catalogue against a started guest', () => {
  const f = (active: boolean, fixed: boolean | null = false) => ({ active, fixed, requested: active });
  const e1000 = findQemuModel('e1000')!;
  const features = {
    'tx-checksum-ip-generic': f(true),
    'tx-checksum-ipv4': f(false, true),
    'rx-checksumming': f(false),
    'tx-scatter-gather': f(true),
  };
  it('agrees with what e1000 really advertises (RX checksum offered though off by default)', () => {
    expect(catalogueMismatches(e1000, 'e1000', features)).toEqual([]);
  });
  it('names each difference', () => {
    expect(
      catalogueMismatches(e1000, '8139too', {
        ...features,
        'tx-checksum-ip-generic': f(false),
        'rx-checksumming': f(false, true),
        'tx-scatter-gather': f(false),
      }),
    ).toEqual([
      'driver 8139too, catalogue expects e1000',
      'TX checksum none, catalogue expects tx-checksum-ip-generic',
      'rx-checksumming fixed off, catalogue expects offered',
      'tx-scatter-gather off, catalogue expects on',
    ]);
  });
});
