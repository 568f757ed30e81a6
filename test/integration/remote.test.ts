/**
 * The remote peer for real: the "remote host" is a network namespace running
 * its own sshd (generated host key, a root key for us) on a management veth;
 * the controller runs in a third namespace, so ssh crosses a real TCP link.
 * The DUT port is local; the peer port, its agent and its addresses are
 * reached only over ssh. Needs openssh-server (sshd) and openssh-client.
 */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, readRecord, tmpDir, verdictLines } from '../helpers/cli.js';

const id = `${process.pid}`;
const ns = { ctl: `t-rm-${id}-ctl`, host: `t-rm-${id}-rh`, dut: `t-rm-${id}-dut` };
const ifs = {
  mgmtCtl: `rmc${id}`.slice(0, 15),
  mgmtHost: `rmh${id}`.slice(0, 15),
  dut: `rmd${id}`.slice(0, 15),
  peer: `rmp${id}`.slice(0, 15),
};
const MGMT = { ctl: '203.0.113.1', host: '203.0.113.2', port: 2222 };
const dir = tmpDir('remote');
const sshConfig = path.join(dir, 'ssh_config');
let sshd: ResultPromise | undefined;
const haveSshd = fs.existsSync('/usr/sbin/sshd');

async function sh(cmd: string, args: string[]) {
  return execa(cmd, args);
}

/** Addresses, link state and neighbours of the peer port as the remote host sees them. */
async function peerState(): Promise<string> {
  const addr = await execa('ip', ['-n', ns.host, '-json', 'addr', 'show', 'dev', ifs.peer]);
  const neigh = await execa('ip', ['-n', ns.host, 'neigh', 'show', 'dev', ifs.peer]);
  const [info] = JSON.parse(addr.stdout) as { flags: string[]; addr_info: { local: string }[] }[];
  return JSON.stringify({ flags: info!.flags, addrs: info!.addr_info.map((a) => a.local), neigh: neigh.stdout });
}

/** The CLI run in the controller namespace, ssh configured by NICMATRIX_SSH_CONFIG. */
function cli(args: string[], env: Record<string, string> = {}) {
  return execa('ip', ['netns', 'exec', ns.ctl, process.execPath, BIN, ...args], {
    reject: false,
    cwd: tmpDir('rcwd'),
    stdin: 'ignore',
    timeout: 300_000,
    env: { CI: 'true', NICMATRIX_SSH_CONFIG: sshConfig, ...env },
  });
}

const spec = (port = MGMT.port) => `phys:${ns.dut}/${ifs.dut},ssh://root@${MGMT.host}:${port}/${ifs.peer}`;

beforeAll(async () => {
  if (!haveSshd) return;
  for (const n of Object.values(ns)) await sh('ip', ['netns', 'add', n]);
  for (const n of Object.values(ns)) await sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
  await sh('ip', ['-n', ns.ctl, 'link', 'add', ifs.mgmtCtl, 'type', 'veth', 'peer', 'name', ifs.mgmtHost, 'netns', ns.host]);
  await sh('ip', ['-n', ns.ctl, 'addr', 'add', `${MGMT.ctl}/24`, 'dev', ifs.mgmtCtl]);
  await sh('ip', ['-n', ns.host, 'addr', 'add', `${MGMT.host}/24`, 'dev', ifs.mgmtHost]);
  await sh('ip', ['-n', ns.ctl, 'link', 'set', ifs.mgmtCtl, 'up']);
  await sh('ip', ['-n', ns.host, 'link', 'set', ifs.mgmtHost, 'up']);
  // The cabled pair under test: DUT port here, peer port on the "remote host".
  await sh('ip', ['-n', ns.dut, 'link', 'add', ifs.dut, 'type', 'veth', 'peer', 'name', ifs.peer, 'netns', ns.host]);
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'id')]);
  fs.copyFileSync(path.join(dir, 'id.pub'), path.join(dir, 'authorized_keys'));
  const hostPub = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[${MGMT.host}]:${MGMT.port} ${hostPub}\n`);
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${MGMT.port}`,
      `ListenAddress ${MGMT.host}`,
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    sshConfig,
    [
      `Host *`,
      `  IdentityFile ${dir}/id`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${dir}/known_hosts`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
  );
  fs.mkdirSync('/run/sshd', { recursive: true });
  sshd = execa('ip', ['netns', 'exec', ns.host, '/usr/sbin/sshd', '-D', '-e', '-f', path.join(dir, 'sshd_config')], {
    reject: false,
    stdin: 'ignore',
  });
  // sshd is up when a real login answers; bounded by attempts, not by time.
  for (let i = 0; i < 100; i++) {
    const r = await execa(
      'ip',
      ['netns', 'exec', ns.ctl, 'ssh', '-F', sshConfig, '-o', 'BatchMode=yes', '-p', String(MGMT.port), `root@${MGMT.host}`, 'true'],
      { reject: false },
    );
    if (r.exitCode === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('sshd in the remote-host namespace never accepted a login');
});

afterAll(async () => {
  if (sshd?.pid) {
    sshd.kill('SIGTERM');
    await sshd;
  }
  for (const n of Object.values(ns)) await execa('ip', ['netns', 'del', n], { reject: false });
});

describe.skipIf(!haveSshd)('remote peer over ssh', () => {
  it('runs checks with the peer agent on the remote host, qualifies baseline, and puts the remote port back as found', async () => {
    const before = await peerState();
    const out = path.join(tmpDir('rq'), 'q');
    const r = await cli(['qualify', '--profile', 'baseline', '--target', spec(), '--no-store', '--out', out, '--seed', '7']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('baseline MET');
    const record = readRecord(path.join(out, 'run.json'));
    const t = record.targets[0]!;
    expect(t.dimensions).toEqual({ peer: 'ssh' });
    expect(t.evidence.remotePeer).toEqual({ host: `root@${MGMT.host}:${MGMT.port}`, ifname: ifs.peer, agent: 'node' });
    expect(verdictLines(record).filter((l) => !/ pass$/.test(l))).toEqual([]);
    expect(verdictLines(record).length).toBeGreaterThanOrEqual(8);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as { device: { spec: string; driver: string } };
    expect(report.device).toMatchObject({ spec: spec(), driver: 'veth' });
    expect(await peerState()).toEqual(before);
    // Only sshd's listener is left on the remote host: the agent and its session ended.
    const pids = (await execa('ip', ['netns', 'pids', ns.host])).stdout.split('\n').filter(Boolean);
    const cmds = await Promise.all(pids.map((p) => fs.promises.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')));
    expect(cmds.filter((c) => c.includes('agent/main.js'))).toEqual([]);
  });

  it('says why when the remote host cannot be reached, and changes nothing there', async () => {
    const before = await peerState();
    const out = path.join(tmpDir('rbad'), 'run.json');
    const refused = await cli(['run', '--no-store', '--target', spec(MGMT.port + 1), '--checks', 'tx-csum/ipv4-udp', '--out', out]);
    expect(refused.exitCode).toBe(2);
    expect(readRecord(out).targets[0]!.setupError?.message).toMatch(
      new RegExp(`remote peer root@${MGMT.host.replace(/\./g, '\\.')}:${MGMT.port + 1}: cannot connect`),
    );
    expect(await peerState()).toEqual(before);
  });

  it('a remote host without node or the project gets the native agent for the run, removed afterwards, with the same verdicts', async () => {
    const before = await peerState();
    const out = path.join(tmpDir('rnat'), 'run.json');
    const r = await cli(['run', '--no-store', '--target', spec(), '--checks', 'tx-csum/ipv4-udp,rx-csum/ipv6-udp', '--out', out], {
      NICMATRIX_REMOTE_ROOT: '/nonexistent/nicmatrix',
      NICMATRIX_REMOTE_NODE: 'no-such-node',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const t = readRecord(out).targets[0]!;
    expect(t.evidence.remotePeer).toMatchObject({ agent: 'native (no no-such-node in PATH)' });
    expect(verdictLines(readRecord(out)).filter((l) => !/ (pass|unsupported)$/.test(l))).toEqual([]);
    expect(await peerState()).toEqual(before);
    // The copy is gone, and no agent process is left on the remote host.
    expect(fs.readdirSync('/tmp').filter((n) => n.startsWith('nicmatrix-agent-native-'))).toEqual([]);
    const pids = (await execa('ip', ['netns', 'pids', ns.host])).stdout.split('\n').filter(Boolean);
    const cmds = await Promise.all(pids.map((p) => fs.promises.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')));
    expect(cmds.filter((c) => c.includes('nicmatrix-agent-native'))).toEqual([]);
  });

  it('a bad ssh:// peer is a usage error naming the target', async () => {
    const r = await cli(['run', '--no-store', '--target', `phys:${ifs.dut},ssh://root:secret@${MGMT.host}/${ifs.peer}`]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('put no password in the address');
  });
});
