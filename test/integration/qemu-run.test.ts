/**
 * QEMU targets through the real CLI: a guest whose QEMU is killed mid-run
 * gives `error` verdicts naming the cause with the console as evidence, the
 * other target is still judged, and nothing is left behind; a guest that
 * hangs (QEMU alive, the guest silent) is restarted and its target goes on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ensureGuestImage } from '../../drivers/qemu/image.js';
import { BIN, readRecord, tmpDir } from '../helpers/cli.js';
import { harnessProcesses, netnsOf } from '../helpers/leftovers.js';

beforeAll(async () => {
  await ensureGuestImage();
}, 600_000);

/** PID of the QEMU child of `parent` that emulates `device`, if any. */
async function qemuChild(parent: number, device: string): Promise<number | undefined> {
  const ps = await execa('ps', ['-eo', 'pid,ppid,args'], { reject: false });
  const line = ps.stdout
    .split('\n')
    .find((l) => new RegExp(`^\\s*\\d+\\s+${parent}\\s+qemu-system`).test(l) && l.includes(`-device ${device},netdev=`));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
}

/**
 * Runs `nicmatrix run ARGS` and sends `signal` to the e1000 guest's QEMU once that target has judged its first
 * variant, so it lands mid-run; returns the run, the record file, the CLI's pid and the signalled QEMU's pid.
 */
async function runSignallingE1000(name: string, args: string[], signal: NodeJS.Signals) {
  const dirs = [tmpDir(name), tmpDir('cwd')];
  onTestFinished(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const out = path.join(dirs[0]!, 'run.json');
  const sub = execa(process.execPath, [BIN, 'run', ...args, '--out', out], {
    reject: false,
    timeout: 600_000,
    cwd: dirs[1],
    env: { CI: 'true' },
    stdin: 'ignore',
  });
  const pid = sub.pid!;
  let signalled: number | undefined;
  const onOutput = (d: Buffer) => {
    if (signalled === undefined && /\[qemu:e1000\] (PASS|FAIL|UNSUPPORTED)/.test(d.toString())) {
      signalled = -1;
      void qemuChild(pid, 'e1000').then((q) => {
        signalled = q;
        if (q) process.kill(q, signal);
      });
    }
  };
  sub.stdout!.on('data', onOutput);
  sub.stderr!.on('data', onOutput);
  const r = await sub;
  return { r, out, pid, signalled };
}

describe('nicmatrix run with QEMU targets', () => {
  it('QEMU killed mid-run: error verdicts with the cause for that target, the other judged, nothing left', async () => {
    const {
      r,
      out,
      pid,
      signalled: killed,
    } = await runSignallingE1000(
      'qemu-kill',
      ['--target', 'qemu:e1000', '--target', 'qemu:tulip', '--checks', 'tx-csum/*', '--jobs', '2'],
      'SIGKILL',
    );
    expect(killed, r.stdout + r.stderr).toBeGreaterThan(0);
    expect(r.exitCode, r.stderr).toBe(2);
    const record = readRecord(out);
    const e1000 = record.targets.find((t) => t.spec === 'qemu:e1000')!;
    const tulip = record.targets.find((t) => t.spec === 'qemu:tulip')!;
    const errors = e1000.results.filter((x) => x.status === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.message).toMatch(/QEMU was killed by SIGKILL/);
    expect(e1000.results.filter((x) => x.status !== 'error').length).toBeGreaterThan(0);
    expect(tulip.driver.name).toBe('tulip');
    expect(tulip.results.length).toBeGreaterThan(0);
    expect(tulip.results.filter((x) => x.status === 'error')).toEqual([]);
    expect(await netnsOf(pid)).toEqual([]);
    expect(await harnessProcesses([pid])).toEqual([]);
    // Two guests booting and judged at once: minutes on a loaded 2-core host, not vitest's default 2.
  }, 300_000);

  it('a guest that hangs mid-run (QEMU stopped, alive) is restarted: the hang is evidence, the later checks are judged', async () => {
    // Freeze the guest: QEMU lives on, the guest answers nothing.
    const checks = 'tx-csum/ipv4-udp,tx-csum/ipv6-udp,tx-csum/udp-nocsum';
    const {
      r,
      out,
      pid,
      signalled: stopped,
    } = await runSignallingE1000('qemu-hang', ['--target', 'qemu:e1000', '--checks', checks], 'SIGSTOP');
    expect(stopped, r.stdout + r.stderr).toBeGreaterThan(0);
    const t = readRecord(out).targets[0]!;
    const hung = t.results.filter((x) => x.evidence.guestLost !== undefined);
    expect(hung, r.stdout + r.stderr).toHaveLength(1);
    // Found by the agent's missed pings, long before the action's own time-out.
    expect(hung[0]!.message).toContain("the guest's agent answered no ping");
    expect(hung[0]!.message).toMatch(
      /the guest stopped answering \(.*QEMU is still running but the guest does not answer.*\); the guest was restarted and the run went on/,
    );
    // After the restart every variant has a verdict of its own, none an error.
    const after = t.results.slice(t.results.indexOf(hung[0]!) + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((x) => x.status === 'error')).toEqual([]);
    expect(await netnsOf(pid)).toEqual([]);
    expect(await harnessProcesses([pid])).toEqual([]);
  }, 300_000);
});
