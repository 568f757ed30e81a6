import { describe, expect, it } from 'vitest';
import { counterDelta, parseDriverInfo, parseFeaturesJson, parseNstatJson, parseStats } from '../../harness/agent/ethtool.js';

describe('ethtool parsers', () => {
  it('reads the --json -k feature snapshot', () => {
    const text =
      '[{"ifname":"veth0","rx-checksumming":{"active":true,"fixed":false,"requested":true},"tx-checksumming":{"active":true,"fixed":null,"requested":null}}]';
    expect(parseFeaturesJson(text)).toEqual({
      'rx-checksumming': { active: true, fixed: false, requested: true },
      'tx-checksumming': { active: true, fixed: null, requested: null },
    });
    expect(() => parseFeaturesJson('Cannot get device features')).toThrow(/expected JSON, found "Cannot get/);
  });
  it('reads ethtool -i text', () => {
    const text =
      'driver: e1000\nversion: 6.1.0-28-amd64\nfirmware-version: \nexpansion-rom-version: \nbus-info: 0000:00:03.0\nsupports-statistics: yes\n';
    expect(parseDriverInfo(text)).toEqual({ name: 'e1000', version: '6.1.0-28-amd64', firmware: '', bus: '0000:00:03.0' });
  });
  it('reads ethtool -S and nstat --json, and takes deltas', () => {
    expect(parseStats('NIC statistics:\n     rx_packets: 12\n     tx_csum_offload: 3\n')).toEqual({ rx_packets: 12, tx_csum_offload: 3 });
    expect(parseNstatJson('{"kernel":{"UdpInCsumErrors":2,"IpInReceives":10}}')).toEqual({ UdpInCsumErrors: 2, IpInReceives: 10 });
    expect(counterDelta({ a: 1, b: 5 }, { a: 4, b: 5, c: 2 })).toEqual({ a: 3, c: 2 });
  });
});

describe('link stats and speed', () => {
  it('flattens ip -s -s -json link counters by direction, and reads the speed ethtool reports', async () => {
    const { parseLinkStatsJson, parseSpeed } = await import('../../harness/agent/ethtool.js');
    const json = JSON.stringify([{ ifname: 'eth0', stats64: { rx: { packets: 5, dropped: 1, over_errors: 2 }, tx: { dropped: 3 } } }]);
    expect(parseLinkStatsJson(json)).toEqual({ rx_packets: 5, rx_dropped: 1, rx_over_errors: 2, tx_dropped: 3 });
    expect(parseSpeed('Settings for eth0:\n\tSpeed: 1000Mb/s\n\tDuplex: Full\n')).toBe(1000);
    expect(parseSpeed('Settings for eth0:\n\tSpeed: Unknown!\n')).toBeNull();
    expect(parseSpeed('')).toBeNull();
  });
});
