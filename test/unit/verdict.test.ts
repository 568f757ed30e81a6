import { describe, expect, it } from 'vitest';
import { STATUSES, type Status } from '../../matrix/record.js';
import { combineStatuses, VERDICT_ORDER } from '../../matrix/verdict.js';

describe('the one verdict order', () => {
  it('names every status once', () => {
    expect([...VERDICT_ORDER].sort()).toEqual([...STATUSES].sort());
  });
  it('a proven fault outranks a harness error, which outranks a pass, which outranks "not offered"', () => {
    expect(combineStatuses(['error', 'fail'])).toBe('fail');
    expect(combineStatuses(['pass', 'error'])).toBe('error');
    expect(combineStatuses(['unsupported', 'pass'])).toBe('pass');
    expect(combineStatuses(['skip', 'unsupported'])).toBe('unsupported');
    expect(combineStatuses([])).toBe('skip');
  });
  it('is order-independent for every pair', () => {
    for (const a of STATUSES)
      for (const b of STATUSES) expect(combineStatuses([a, b] as Status[])).toBe(combineStatuses([b, a] as Status[]));
  });
});
