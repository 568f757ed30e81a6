import { describe, expect, it } from 'vitest';
import {
  bytesToIpv4,
  bytesToIpv6,
  bytesToMac,
  canonicalIp,
  ipFamily,
  ipv4ToBytes,
  ipv6ToBytes,
  macToBytes,
} from '../../harness/codec/addr.js';
import { isNicmatrixError } from '../../harness/codec/errors.js';
import { createRng } from '../../harness/codec/random.js';

describe('addresses', () => {
  it('formats IPv6 per RFC 5952', () => {
    const cases: Array<[string, string]> = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first run is compressed
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['2001:DB8::A', '2001:db8::a'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
      ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longer run wins
      ['::ffff:c000:0201', '::ffff:192.0.2.1'], // IPv4-mapped in dotted form
      ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ];
    for (const [input, want] of cases) expect(bytesToIpv6(ipv6ToBytes(input)), input).toBe(want);
  });

  it('round-trips random IPv6 addresses, many with zero runs', () => {
    const rng = createRng(5952);
    for (let n = 0; n < 2000; n++) {
      const b = rng.bytes(16);
      for (let i = 0; i < 8; i++) if (rng.bool(0.5)) b.writeUInt16BE(0, 2 * i);
      const text = bytesToIpv6(b);
      expect(ipv6ToBytes(text).equals(b), text).toBe(true);
      expect(text).toBe(text.toLowerCase());
      expect(text.split('::').length).toBeLessThanOrEqual(2);
    }
  });

  it('rejects malformed IPv6 text with a CODEC error', () => {
    for (const bad of [
      '',
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'g::1',
      '::1.2.3',
      '1:2:3:4:5:6:7::8',
      ':1::',
    ]) {
      let err: unknown;
      try {
        ipv6ToBytes(bad);
      } catch (e) {
        err = e;
      }
      expect(isNicmatrixError(err, 'CODEC'), bad).toBe(true);
    }
  });

  it('parses and formats IPv4 and MAC', () => {
    expect(bytesToIpv4(ipv4ToBytes('192.0.2.255'))).toBe('192.0.2.255');
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4.5']) expect(() => ipv4ToBytes(bad), bad).toThrow(/IPv4/);
    expect(bytesToMac(macToBytes('02:AB:cd:0:1:ff'))).toBe('02:ab:cd:00:01:ff');
    expect(bytesToMac(macToBytes('02-00-00-00-00-01'))).toBe('02:00:00:00:00:01');
    expect(() => macToBytes('02:00:00:00:00')).toThrow(/MAC/);
  });

  it('tells the family and canonical form', () => {
    expect(ipFamily('10.0.0.1')).toBe(4);
    expect(ipFamily('::1')).toBe(6);
    expect(ipFamily('nope')).toBeUndefined();
    expect(canonicalIp('2001:DB8:0::1')).toBe('2001:db8::1');
  });
});
