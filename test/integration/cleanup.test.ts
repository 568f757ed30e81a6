/** Ctrl+C mid-run and bad input: a clear message, the record so far kept, nothing left behind. */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, nicmatrix, readRecord, tmpDir } from '../helpers/cli.js';
import { netnsOf } from '../helpers/leftovers.js';

async function descendants(pid: number): Promise<number[]> {
  const r = await execa('ps', ['-eo', 'pid=,ppid='], { reject: false });
  const rows = r.stdout.split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of rows) {
      if (pp !== p) continue;
      out.push(c!);
      walk(c!);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('interrupting a run', () => {
  it('SIGINT mid-check: exit 130, verdicts so far recorded, no netns, veth or child process remains', async () => {
    const out = path.join(tmpDir('int'), 'run.json');
    const child = execa(
      process.execPath,
      [BIN, 'run', '--no-store', '--target', 'lo', '--target', 'veth', '--checks', 'tx-csum/*', '--jobs', '1', '--out', out],
      { reject: false, env: { CI: 'true' }, stdin: 'ignore' },
    );
    let seen = '';
    let kids: number[] = [];
    const ready = new Promise<void>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        // Interrupt once the first target finished and the second is mid-check.
        if (/\[lo\] done/.test(seen) && /\[veth\] (PASS|UNSUPPORTED|FAIL)/i.test(seen)) resolve();
        if (/\[veth\] ready/.test(seen)) void descendants(child.pid!).then((k) => (kids = k));
      });
    });
    await ready;
    if (kids.length === 0) kids = await descendants(child.pid!);
    expect(kids.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT received/);
    expect(await netnsOf(child.pid!)).toEqual([]);
    expect(kids.filter(alive)).toEqual([]);
    const record = readRecord(out);
    const lo = record.targets.find((t) => t.spec === 'lo')!;
    expect(lo.results).toHaveLength(20);
    expect(lo.results.every((x) => x.status === 'pass' || x.status === 'unsupported')).toBe(true);
    const veth = record.targets.find((t) => t.spec === 'veth');
    expect(veth?.results.some((x) => x.status === 'error' && /interrupted/.test(x.message))).toBe(true);
  });
});

describe('a controller killed outright', () => {
  it('SIGKILL leaves its netns behind; the next run removes them and their processes', async () => {
    const child = execa(
      process.execPath,
      [BIN, 'run', '--no-store', '--target', 'veth', '--checks', 'tx-csum/*', '--out', path.join(tmpDir('kill'), 'run.json')],
      { reject: false, env: { CI: 'true' }, stdin: 'ignore' },
    );
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/\[veth\] ready/.test(seen)) resolve();
      });
    });
    child.kill('SIGKILL');
    await child;
    expect((await netnsOf(child.pid!)).length).toBeGreaterThan(0);
    const next = await nicmatrix(['run', '--no-store', '--target', 'lo', '--checks', 'tx-csum/ipv4-udp']);
    expect(next.stderr).toMatch(new RegExp(`removed nm-${child.pid}-`));
    expect(await netnsOf(child.pid!)).toEqual([]);
  });
});

describe('concurrent runs', () => {
  it('two runs at once on veth and lo do not collide and both pass', async () => {
    const dir = tmpDir('conc');
    const runs = await Promise.all(
      [0, 1].map((i) =>
        nicmatrix(['run', '--target', 'veth', '--target', 'lo', '--checks', 'tx-csum/ipv*', '--out', path.join(dir, `run${i}.json`)]),
      ),
    );
    for (const [i, r] of runs.entries()) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(
        readRecord(path.join(dir, `run${i}.json`))
          .targets.flatMap((t) => t.results)
          .every((x) => x.status === 'pass' || x.status === 'unsupported'),
      ).toBe(true);
      expect(await netnsOf(r.pid)).toEqual([]);
    }
  });
});

describe('bad input', () => {
  it('a wrong target spec is a usage error naming the spec, exit 2, nothing created', async () => {
    const r = await nicmatrix(['run', '--target', 'qemu', '--checks', 'tx-csum/*']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/target "qemu": expected qemu:MODEL/);
    const unknown = await nicmatrix(['run', '--target', 'qemu:e1001']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown QEMU model "e1001"; expected one of: e1000, /);
  });

  it('an unknown check glob names the glob and the known checks', async () => {
    const r = await nicmatrix(['run', '--target', 'lo', '--checks', 'tx-sum/*']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--checks tx-sum\/\*: matches no check; known: tx-csum\/ipv4-udp/);
  });

  it('a phys target naming a missing interface gives error verdicts naming it, one error line for the target, exit 2', async () => {
    const out = path.join(tmpDir('bad'), 'run.json');
    const r = await nicmatrix(['run', '--target', 'phys:nonexist0,nm-none/nonexist1', '--checks', 'tx-csum/*', '--out', out]);
    expect(r.exitCode).toBe(2);
    const t = readRecord(out).targets[0]!;
    // The missing port is named as the cause, and said once for the target, not once per check.
    expect(t.setupError?.message).toMatch(/expected an existing interface nonexist0 in the host namespace, found none/);
    // Named by its spec, so the matrix shows the error cells under the target that failed, not a nameless device.
    expect(t.device.description).toBe('phys:nonexist0,nm-none/nonexist1');
    expect(t.results.length).toBeGreaterThan(1);
    expect(t.results.every((x) => x.status === 'error')).toBe(true);
    const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('ERROR'));
    expect(lines).toEqual([
      expect.stringMatching(/\[TARGET_SPEC\] target could not be set up: .*nonexist0.* \(\d+ verdict\(s\) not run, recorded as error\)$/),
    ]);
    expect(fs.existsSync(out)).toBe(true);
  });

  it('a QEMU target that cannot start shows on its model and catalogue driver, the cause named', async () => {
    const out = path.join(tmpDir('bad-qemu'), 'run.json');
    const r = await nicmatrix(['run', '--target', 'qemu:e1000,kernel=/nonexistent/vmlinuz', '--checks', 'tx-csum/ipv4-udp', '--out', out]);
    expect(r.exitCode).toBe(2);
    const t = readRecord(out).targets[0]!;
    expect(t.setupError?.message).toContain('/nonexistent/vmlinuz');
    expect(t.device).toEqual({ model: 'e1000', description: 'Intel 82540EM Gigabit Ethernet (QEMU e1000)' });
    expect(t.driver.name).toBe('e1000');
    expect(t.results.every((x) => x.status === 'error')).toBe(true);
  });

  it('--help is fast and lists the commands', async () => {
    const r = await nicmatrix(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/doctor[\s\S]*targets[\s\S]*run[\s\S]*site[\s\S]*report/);
  });
});
