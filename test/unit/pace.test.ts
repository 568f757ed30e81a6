import { describe, expect, it } from 'vitest';
import { datagramWireBits, Pacer, wireBits } from '../../harness/agent/pace.js';

describe('pacing to a link rate', () => {
  it('counts a frame as it occupies the wire: padding to 60 bytes, FCS, preamble and gap', () => {
    expect(wireBits(1514)).toBe((1514 + 24) * 8);
    expect(wireBits(42)).toBe((60 + 24) * 8);
    // 8192 bytes of UDP data over IPv4: 6 fragments of at most 1480 bytes, each with its own headers.
    expect(datagramWireBits(8192, 4)).toBe(8200 * 8 + 6 * wireBits(34));
    expect(datagramWireBits(0, 6)).toBe(8 * 8 + wireBits(62));
  });

  it('never sends faster than the rate (it may be slower on a busy machine), and not at all slower without one', async () => {
    const bits = wireBits(1514);
    const paced = new Pacer(10);
    const t0 = performance.now();
    for (let i = 0; i < 11; i++) await paced.before(bits);
    // Ten frames' wire time at 10 Mb/s must have passed before the eleventh may leave (1 ms of timer slack).
    expect(performance.now() - t0).toBeGreaterThanOrEqual((10 * bits) / 10_000 - 1);
    const free = new Pacer(undefined);
    const t1 = performance.now();
    for (let i = 0; i < 1000; i++) await free.before(bits);
    expect(performance.now() - t1).toBeLessThan(200);
  });
});
