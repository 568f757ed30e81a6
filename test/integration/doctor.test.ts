import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guestImageLine } from '../../drivers/qemu/readiness.js';
import { nicmatrix } from '../helpers/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('nicmatrix doctor', () => {
  it('says which accelerator a run gets (KVM tried for real, else TCG with the reason) and which guest image is ready', async () => {
    const r = await nicmatrix(['doctor']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^info {4}QEMU accelerator \[qemu\]: (KVM: a probe ROM ran under KVM|TCG: .+); /m);
    expect(r.stdout).toMatch(/^(ok {5}|info {3}) QEMU guest image \[qemu\]: /m);
  });

  it('names the newest x86 guest image in the cache, and says how to build one when there is none', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `nicmatrix-doctor-${process.pid}-`));
    dirs.push(root);
    expect(await guestImageLine(root)).toEqual({
      ok: false,
      line: `none built in ${path.join(root, 'images')}: nicmatrix doctor --install builds it (or the first QEMU run does)`,
    });
    fs.mkdirSync(path.join(root, 'images'));
    const old = path.join(root, 'images', 'initramfs-6.1.0-56-amd64-0123456789abcdef.cpio.gz');
    const now = path.join(root, 'images', 'initramfs-6.1.0-57-amd64-fedcba9876543210.cpio.gz');
    fs.writeFileSync(old, '');
    fs.utimesSync(old, new Date(1000), new Date(1000));
    fs.writeFileSync(now, '');
    fs.writeFileSync(path.join(root, 'images', 'initramfs-sparc64-0123456789abcdef.cpio.gz'), '');
    const got = await guestImageLine(root);
    expect(got.ok).toBe(true);
    expect(got.line).toMatch(new RegExp(`^kernel 6\\.1\\.0-57-amd64, ${now.replace(/[.]/g, '\\.')} \\(built `));
  });
});
