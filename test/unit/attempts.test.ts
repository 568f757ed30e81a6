import { describe, expect, it } from 'vitest';
import type { ResultRecord, Status } from '../../matrix/record.js';
import { combineAttempts, wantsAnotherAttempt } from '../../harness/run/attempts.js';

const r = (status: Status, message: string = status): ResultRecord => ({
  check: 'c',
  variant: 'v',
  status,
  durationMs: 10,
  message,
  evidence: {},
});

describe('attempts', () => {
  it('one attempt is the result as it was', () => {
    expect(combineAttempts([r('pass')])).toEqual(r('pass'));
  });
  it('attempts that disagree are flaky with the pass count, and a fail seen once stays a fail', () => {
    const c = combineAttempts([r('pass'), r('fail', 'wrong checksum'), r('pass')]);
    expect(c.status).toBe('fail');
    expect(c.message).toBe('flaky: 2 of 3 attempts passed; wrong checksum');
    expect(c.evidence.flaky).toEqual({ passes: 2, attempts: 3 });
    expect(c.evidence.attempts).toHaveLength(3);
    expect(c.durationMs).toBe(30);
  });
  it('attempts that agree are not flaky', () => {
    expect(combineAttempts([r('pass'), r('pass')]).evidence.flaky).toBeUndefined();
  });
  it('repeats N times, then retries only what failed, at most K more', () => {
    expect(wantsAnotherAttempt([r('pass')], 2, 0)).toBe(true);
    expect(wantsAnotherAttempt([r('pass'), r('pass')], 2, 3)).toBe(false);
    expect(wantsAnotherAttempt([r('fail')], 1, 1)).toBe(true);
    expect(wantsAnotherAttempt([r('fail'), r('fail')], 1, 1)).toBe(false);
    expect(wantsAnotherAttempt([r('fail'), r('pass')], 1, 2)).toBe(false);
  });
});
