import { describe, expect, it } from 'vitest';
import { judgeStall, stalledStep } from '../../harness/run/stall.js';
import { capWait, type Step } from '../../harness/run/variant-dut.js';

const step = (n: number, side: 'dut' | 'peer', action: string, end?: number, code?: string): Step => ({
  n,
  side,
  action,
  startMs: n * 1000,
  endMs: end,
  code,
  error: code ? `${code}!` : undefined,
});

describe('stalledStep', () => {
  it('is the oldest call still in flight, after the last one that answered', () => {
    const steps = [step(1, 'peer', 'capture.start', 1100), step(2, 'dut', 'udp.send', 2100), step(3, 'peer', 'capture.stop')];
    const r = stalledStep(steps);
    expect(r.stalled?.n).toBe(3);
    expect(r.lastDone?.n).toBe(2);
  });
  it('is the last call that timed out when nothing is in flight', () => {
    const steps = [
      step(1, 'peer', 'capture.start', 1100),
      step(2, 'dut', 'tcp.send', 9000, 'TIMEOUT'),
      step(3, 'peer', 'capture.stop', 9100),
    ];
    expect(stalledStep(steps).stalled?.n).toBe(2);
  });
});

describe('judgeStall', () => {
  const base = { budgetMs: 180_000, sameAgent: false };
  it('a traffic call that never ended while both agents answer is a device fail naming the step', () => {
    const v = judgeStall({
      ...base,
      stalled: step(3, 'peer', 'capture.stop'),
      lastDone: step(2, 'dut', 'udp.send', 2100),
      answers: { dut: true, peer: true },
    });
    expect(v.status).toBe('fail');
    expect(v.message).toMatch(/stalled at step 3 \(peer capture\.stop/);
    expect(v.message).toMatch(/step 2 \(dut udp\.send/);
  });
  it('an agent that no longer answers is a harness error, never a device fail', () => {
    const v = judgeStall({ ...base, stalled: step(3, 'dut', 'tcp.send'), answers: { dut: false, peer: true } });
    expect(v.status).toBe('error');
    expect(v.message).toMatch(/the dut agent no longer answers/);
  });
  it('a system tool that hangs is an error', () => {
    expect(judgeStall({ ...base, stalled: step(1, 'dut', 'ethtool.stats'), answers: { dut: true, peer: true } }).status).toBe('error');
  });
  it('a check that ran out of time with no call waiting is an error (the harness stalled)', () => {
    expect(judgeStall({ ...base, answers: { dut: true, peer: true } }).status).toBe('error');
  });
});

describe('capWait', () => {
  it('shortens an agent-side wait to what the variant has left, and leaves other params alone', () => {
    expect(capWait({ id: 'c', timeoutMs: 15_000 }, 4_000)).toEqual({ id: 'c', timeoutMs: 4_000 });
    expect(capWait({ id: 'c', timeoutMs: 1_000 }, 4_000)).toEqual({ id: 'c', timeoutMs: 1_000 });
    expect(capWait({ id: 'c', timeoutMs: 15_000 }, -5)).toEqual({ id: 'c', timeoutMs: 0 });
    expect(capWait({ id: 'c' }, 10)).toEqual({ id: 'c' });
  });
});
