import { describe, expect, it } from 'vitest';
import { tbfArgs } from '../../harness/agent/actions/link-pace.js';

describe('link pacing', () => {
  it('asks tc for a token bucket at the rate, holding at least two frames and one timer tick of traffic', () => {
    expect(tbfArgs('nm3t', 10).join(' ')).toBe('qdisc replace dev nm3t root tbf rate 10000kbit burst 5000 latency 30s');
    expect(tbfArgs('nm3t', 1.25, 9000).join(' ')).toBe('qdisc replace dev nm3t root tbf rate 1250kbit burst 18036 latency 30s');
    expect(() => tbfArgs('nm3t', 0)).toThrow(/expected a rate above 0 Mb\/s, found 0/);
  });
});
