/**
 * Devices from the seed material that must appear in the matrix even when
 * nobody has run them yet: their rows say "not yet tested" until a record
 * names one of their drivers.
 */

/** A known device without results (yet). */
export interface CatalogueDevice {
  /** Stable key, used in page names. */
  key: string;
  description: string;
  /** Linux drivers that bind to it; a record with any of them makes the row tested. */
  drivers: string[];
  /** `vendor:device` of the common part, lowercase hex. */
  pciId?: string;
  note: string;
}

export const SEED_CATALOGUE: readonly CatalogueDevice[] = [
  {
    key: '3com-3c59x',
    description: '3Com 3c59x/3c90x "Vortex/Boomerang/Cyclone" Fast EtherLink',
    drivers: ['3c59x'],
    pciId: '10b7:9200',
    note: 'Hardware TX checksum on Cyclone/Tornado only; PCI, no QEMU model.',
  },
  {
    key: 'alteon-acenic',
    description: 'Alteon AceNIC Gigabit Ethernet (Tigon)',
    drivers: ['acenic'],
    pciId: '12ae:0001',
    note: 'Firmware-driven Tigon chip; zero-copy sendfile seed case.',
  },
  {
    key: 'sun-hme',
    description: 'Sun Happy Meal Ethernet (SunHME)',
    drivers: ['sunhme'],
    pciId: '108e:1001',
    note: 'Generic (csum_start/csum_offset) TX checksum: the NETIF_F_HW_CSUM case.',
  },
  {
    key: 'syskonnect-sk98',
    description: 'SysKonnect SK-98xx Gigabit Ethernet',
    drivers: ['skge', 'sk98lin'],
    pciId: '1148:4320',
    note: 'Driven by skge today (sk98lin historically).',
  },
];
