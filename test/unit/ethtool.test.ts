import { describe, expect, it } from 'vitest';
import { counterDelta, linkStatsFromSysfs, parseDriverInfo, parseFeaturesJson, parseSysfsSpeed } from '../../harness/agent/ethtool.js';
import { parseLinkStatsJson, parseNstatJson, parseSpeed, parseStats } from '../helpers/tool-output.js';
import { parseNameValue, parseSnmpTable } from '../../harness/agent/proc-counters.js';
import { decodeGstrings } from '../../harness/sys/ethtool-stats.js';

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
    const json = JSON.stringify([{ ifname: 'eth0', stats64: { rx: { packets: 5, dropped: 1, over_errors: 2 }, tx: { dropped: 3 } } }]);
    expect(parseLinkStatsJson(json)).toEqual({ rx_packets: 5, rx_dropped: 1, rx_over_errors: 2, tx_dropped: 3 });
    expect(parseSpeed('Settings for eth0:\n\tSpeed: 1000Mb/s\n\tDuplex: Full\n')).toBe(1000);
    expect(parseSpeed('Settings for eth0:\n\tSpeed: Unknown!\n')).toBeNull();
    expect(parseSpeed('')).toBeNull();
  });
});

describe('counters read without a process', () => {
  it('names sysfs link counters as ip -s -s does: multicast and collisions by direction, compressed and nohandler only when not zero', () => {
    const files = {
      rx_packets: '5\n',
      multicast: '2\n',
      collisions: '0\n',
      carrier_changes: '3\n',
      rx_compressed: '0\n',
      rx_nohandler: '4\n',
      tx_compressed: '1\n',
      name_assign_type: 'x',
    };
    expect(linkStatsFromSysfs(files)).toEqual({
      rx_packets: 5,
      rx_multicast: 2,
      tx_collisions: 0,
      tx_carrier_changes: 3,
      rx_nohandler: 4,
      tx_compressed: 1,
    });
    expect(parseSysfsSpeed('1000\n')).toBe(1000);
    // No link settings (EINVAL gives no text) or SPEED_UNKNOWN: no speed.
    expect(parseSysfsSpeed('')).toBeNull();
    expect(parseSysfsSpeed('-1\n')).toBeNull();
  });

  it('reads /proc/net/snmp-style tables and name-value lines as nstat names them, leaving out settings and gauges', () => {
    const snmp = 'Ip: Forwarding DefaultTTL InReceives\nIp: 1 64 10\nUdp: InDatagrams InCsumErrors\nUdp: 7 2\n';
    expect(parseSnmpTable(snmp)).toEqual({ IpInReceives: 10, UdpInDatagrams: 7, UdpInCsumErrors: 2 });
    const tcp = 'Tcp: RtoAlgorithm MaxConn CurrEstab InSegs\nTcp: 1 -1 3 99\n';
    expect(parseSnmpTable(tcp)).toEqual({ TcpInSegs: 99 });
    expect(parseNameValue('Ip6InReceives                   \t12\nUdp6InErrors 0\n\n')).toEqual({ Ip6InReceives: 12, Udp6InErrors: 0 });
    expect(
      decodeGstrings(Buffer.concat([Buffer.from('rx_missed\0'.padEnd(32, '\0')), Buffer.from(' tx_ok '.padEnd(32, '\0'))]), 0, 2),
    ).toEqual(['rx_missed', 'tx_ok']);
  });
});
