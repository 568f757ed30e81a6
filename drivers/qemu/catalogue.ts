/**
 * The QEMU NIC models nicmatrix tests (pure data): for each `qemu:<model>`
 * target, the QEMU device, the Linux driver expected to bind (Debian's 6.1
 * kernel), its PCI id and what that driver advertises. The harness records the
 * driver that really bound; the catalogue only says what to expect.
 */
import type { FeatureSnapshot } from '../../matrix/record.js';

/** One emulated NIC model. */
export interface QemuModel {
  /** Name in the target spec (`qemu:<model>`). */
  model: string;
  /** QEMU `-device` name. */
  device: string;
  /** Linux driver expected to bind (`ethtool -i` name). */
  driver: string;
  /** Other drivers that claim the PCI id and are loaded too, so the kernel's own choice is what gets recorded. */
  rivals: string[];
  /** `vendor:device` the model presents, lowercase hex. */
  pciId: string;
  description: string;
  /** TX checksum features (ethtool names) on by default with the default backend; empty when none. */
  txChecksum: string[];
  /** Whether the driver offers RX checksum offload (`rx-checksumming` not `[fixed] off`; e1000 offers it but starts with it off). */
  rxChecksum: boolean;
  /** Whether `tx-scatter-gather` is on by default (zero-copy sendfile needs it). */
  scatterGather: boolean;
  /** Why the model is interesting, or what differs with the backend. */
  notes?: string;
  /** Guest architecture: x86_64 (the default, Debian's kernel) or sparc64 (sun4u, the cross-built kernel and the native agent). */
  arch?: 'x86_64' | 'sparc64';
  /** NIC family of the project's founding material the chip belongs to (`eepro100`, `sunhme`): the `seed` target set runs them all. */
  family?: string;
}

const GENERIC = ['tx-checksum-ip-generic'];

/** QEMU's eepro100 chips: model, PCI id QEMU presents (`info pci`), and the part. */
const EEPRO100_CHIPS: readonly (readonly [string, string, string])[] = [
  ['i82550', '8086:1209', 'Intel 82550 Fast Ethernet'],
  ['i82551', '8086:1209', 'Intel 82551 Fast Ethernet'],
  ['i82557a', '8086:1229', 'Intel 82557A Fast Ethernet'],
  ['i82557b', '8086:1229', 'Intel 82557B Fast Ethernet'],
  ['i82557c', '8086:1229', 'Intel 82557C Fast Ethernet'],
  ['i82558a', '8086:1229', 'Intel 82558A Fast Ethernet'],
  ['i82558b', '8086:1229', 'Intel 82558B Fast Ethernet'],
  ['i82559a', '8086:1229', 'Intel 82559A Fast Ethernet'],
  ['i82559b', '8086:1229', 'Intel 82559B Fast Ethernet'],
  ['i82559c', '8086:1229', 'Intel 82559C Fast Ethernet'],
  ['i82559er', '8086:1209', 'Intel 82559ER Fast Ethernet'],
  ['i82562', '8086:1209', 'Intel 82562 Fast Ethernet'],
  ['i82801', '8086:2449', 'Intel 82801 (ICH) integrated Fast Ethernet'],
];

export const QEMU_MODELS: readonly QemuModel[] = [
  {
    model: 'e1000',
    device: 'e1000',
    driver: 'e1000',
    rivals: [],
    pciId: '8086:100e',
    description: 'Intel 82540EM Gigabit Ethernet (QEMU e1000)',
    txChecksum: GENERIC,
    rxChecksum: true,
    scatterGather: true,
    notes: 'TX checksum via context descriptors whose TUCSS/TUCSO fields are 8 bits wide',
  },
  {
    model: 'e1000-82544gc',
    device: 'e1000-82544gc',
    driver: 'e1000',
    rivals: [],
    pciId: '8086:100c',
    description: 'Intel 82544GC Gigabit Ethernet (QEMU e1000-82544gc)',
    txChecksum: GENERIC,
    rxChecksum: true,
    scatterGather: true,
  },
  {
    model: 'e1000-82545em',
    device: 'e1000-82545em',
    driver: 'e1000',
    rivals: [],
    pciId: '8086:100f',
    description: 'Intel 82545EM Gigabit Ethernet (QEMU e1000-82545em)',
    txChecksum: GENERIC,
    rxChecksum: true,
    scatterGather: true,
  },
  {
    model: 'e1000e',
    device: 'e1000e',
    driver: 'e1000e',
    rivals: [],
    pciId: '8086:10d3',
    description: 'Intel 82574L Gigabit Ethernet (QEMU e1000e)',
    txChecksum: GENERIC,
    rxChecksum: true,
    scatterGather: true,
  },
  {
    model: 'virtio-net-pci',
    device: 'virtio-net-pci',
    driver: 'virtio_net',
    rivals: [],
    pciId: '1af4:1000',
    description: 'virtio network device, transitional (QEMU virtio-net-pci)',
    txChecksum: [],
    rxChecksum: true,
    scatterGather: false,
    notes:
      'offers VIRTIO_NET_F_CSUM (and so SG and TSO) only when the backend takes vnet headers (vnet_hdr=on); with the default tap backend it offers no TX checksum offload',
  },
  {
    model: 'rtl8139',
    device: 'rtl8139',
    driver: '8139cp',
    rivals: ['8139too'],
    pciId: '10ec:8139',
    description: 'Realtek RTL8139C+ Fast Ethernet (QEMU rtl8139)',
    txChecksum: ['tx-checksum-ipv4'],
    rxChecksum: true,
    scatterGather: true,
    notes: 'revision 0x20 (C+): 8139too declines it and 8139cp binds',
  },
  // Every i8255x variant QEMU's eepro100 emulates (`-device help`): one e100 driver, chips told apart by PCI id and revision.
  ...EEPRO100_CHIPS.map(([model, pciId, name]): QemuModel => ({
    model,
    device: model,
    driver: 'e100',
    rivals: [],
    pciId,
    description: `${name} (QEMU eepro100 family)`,
    family: 'eepro100',
    txChecksum: [],
    rxChecksum: false,
    scatterGather: false,
  })),
  {
    model: 'sunhme',
    device: 'sunhme',
    driver: 'sunhme',
    rivals: [],
    pciId: '108e:1001',
    description: 'Sun Happy Meal 10/100 Ethernet (QEMU sun4u on-board, sparc64 guest)',
    txChecksum: GENERIC,
    rxChecksum: true,
    scatterGather: true,
    arch: 'sparc64',
    family: 'sunhme',
    notes: 'the only sparc64 model: a cross-built 6.1 kernel and the static native agent (no Node for sparc64), under TCG',
  },
  {
    model: 'tulip',
    device: 'tulip',
    driver: 'tulip',
    rivals: [],
    pciId: '1011:0019',
    description: 'DEC 21143 Tulip Fast Ethernet (QEMU tulip)',
    txChecksum: [],
    rxChecksum: false,
    scatterGather: false,
  },
  {
    model: 'pcnet',
    device: 'pcnet',
    driver: 'pcnet32',
    rivals: [],
    pciId: '1022:2000',
    description: 'AMD PCnet-PCI II Am79C970A (QEMU pcnet)',
    txChecksum: [],
    rxChecksum: false,
    scatterGather: false,
  },
  {
    model: 'ne2k_pci',
    device: 'ne2k_pci',
    driver: 'ne2k-pci',
    rivals: [],
    pciId: '10ec:8029',
    description: 'Realtek RTL8029 NE2000-compatible (QEMU ne2k_pci)',
    txChecksum: [],
    rxChecksum: false,
    scatterGather: false,
  },
  {
    model: 'vmxnet3',
    device: 'vmxnet3',
    driver: 'vmxnet3',
    rivals: [],
    pciId: '15ad:07b0',
    description: 'VMware VMXNET3 paravirtual NIC (QEMU vmxnet3)',
    txChecksum: GENERIC,
    rxChecksum: true,
    scatterGather: true,
  },
];

/** The catalogue entry of `model`, or undefined. */
export function findQemuModel(model: string): QemuModel | undefined {
  return QEMU_MODELS.find((m) => m.model === model);
}

/** Where a started guest differs from its catalogue entry (driver, TX checksum, RX checksum, SG); empty when it agrees. */
export function catalogueMismatches(m: QemuModel, driver: string, features: FeatureSnapshot): string[] {
  const out: string[] = [];
  if (driver !== m.driver) out.push(`driver ${driver}, catalogue expects ${m.driver}`);
  const on = (k: string) => features[k]?.active === true;
  const tx = Object.keys(features)
    .filter((k) => k.startsWith('tx-checksum-') && on(k))
    .sort();
  if (tx.join(',') !== [...m.txChecksum].sort().join(','))
    out.push(`TX checksum ${tx.join(',') || 'none'}, catalogue expects ${m.txChecksum.join(',') || 'none'}`);
  const rx = features['rx-checksumming'];
  const rxOffered = rx !== undefined && (rx.active || rx.fixed !== true);
  if (rxOffered !== m.rxChecksum)
    out.push(`rx-checksumming ${rxOffered ? 'offered' : 'fixed off'}, catalogue expects ${m.rxChecksum ? 'offered' : 'fixed off'}`);
  if (on('tx-scatter-gather') !== m.scatterGather)
    out.push(`tx-scatter-gather ${on('tx-scatter-gather') ? 'on' : 'off'}, catalogue expects ${m.scatterGather ? 'on' : 'off'}`);
  return out;
}

/** Every Linux module a guest image needs for the catalogue's NICs (expected drivers and their rivals). */
export function nicModules(models: readonly QemuModel[] = QEMU_MODELS): string[] {
  // The sparc64 guest's drivers are built into its own kernel.
  return [...new Set(models.filter((m) => (m.arch ?? 'x86_64') === 'x86_64').flatMap((m) => [m.driver, ...m.rivals]))].sort();
}

/**
 * Line rate (Mb/s) of the part each model emulates, for pacing injected frames where the driver reports no
 * speed: QEMU's tap delivers faster than any cable, and the emulated RX rings overflow. None for virtio-net
 * (no physical part behind it).
 */
const LINK_MBPS: Readonly<Record<string, number>> = {
  e1000: 1000,
  'e1000-82544gc': 1000,
  'e1000-82545em': 1000,
  e1000e: 1000,
  rtl8139: 100,
  ...Object.fromEntries(EEPRO100_CHIPS.map(([model]) => [model, 100])),
  tulip: 100,
  pcnet: 100,
  ne2k_pci: 10,
  vmxnet3: 10000,
  sunhme: 100,
};

/** The line rate of `model`'s part in Mb/s, or undefined when it has none. */
export function modelLinkMbps(model: string): number | undefined {
  return LINK_MBPS[model];
}
