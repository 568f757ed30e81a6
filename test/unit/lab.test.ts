import { describe, expect, it } from 'vitest';
import { parseTargetSpec } from '../../drivers/spec.js';
import { describeRemote, parseSshEnd } from '../../drivers/remote-spec.js';
import { shellQuote, sshArgs } from '../../drivers/ssh.js';
import {
  hostMatches,
  inventoryIssues,
  inventoryLabels,
  machineTargets,
  parseInventory,
  selectMachines,
} from '../../harness/lab/inventory.js';
import { planLab } from '../../harness/lab/run.js';
import { isNicmatrixError } from '../../harness/codec/errors.js';

const inventory = {
  schema: 'nicmatrix.lab/1',
  name: 'test lab',
  checks: ['tx-csum/*'],
  machines: [
    {
      name: 'rack1-ixgbe',
      host: 'rack1.lab.example',
      labels: ['intel', 'rack1'],
      ports: [
        { dut: 'enp3s0f0', peer: 'peer/enp3s0f1' },
        { dut: 'enp3s0f1', peer: 'ssh://root@peer.lab.example:2222/ns2/eth2' },
      ],
    },
    { name: 'sim-qemu', labels: ['qemu'], targets: ['qemu:e1000', 'veth'], checks: ['tx-csum/ipv4-udp'] },
    { name: 'sim-veth', labels: ['veth', 'rack1'], targets: ['veth'] },
  ],
};

const parse = (v: unknown) => parseInventory(JSON.stringify(v), 'lab.json');

function refusal(v: unknown): string {
  try {
    parse(v);
  } catch (e) {
    expect(isNicmatrixError(e, 'USAGE')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the inventory to be refused');
}

describe('lab inventory', () => {
  it('parses machines, their port pairs as phys: targets, labels in first-seen order', () => {
    const inv = parse(inventory);
    expect(inventoryLabels(inv)).toEqual(['intel', 'rack1', 'qemu', 'veth']);
    expect(machineTargets(inv.machines[0]!)).toEqual([
      'phys:enp3s0f0,peer/enp3s0f1',
      'phys:enp3s0f1,ssh://root@peer.lab.example:2222/ns2/eth2',
    ]);
    expect(machineTargets(inv.machines[1]!)).toEqual(['qemu:e1000', 'veth']);
  });

  it('selects by label and by name; unknown ones are usage errors listing what exists', () => {
    const inv = parse(inventory);
    expect(selectMachines(inv, ['rack1']).map((m) => m.name)).toEqual(['rack1-ixgbe', 'sim-veth']);
    expect(selectMachines(inv, []).map((m) => m.name)).toEqual(['rack1-ixgbe', 'sim-qemu', 'sim-veth']);
    expect(selectMachines(inv, ['rack1'], ['sim-veth']).map((m) => m.name)).toEqual(['sim-veth']);
    expect(() => selectMachines(inv, ['amd'])).toThrow('--label amd: no machine in lab.json carries it; labels: intel, rack1, qemu, veth');
    expect(() => selectMachines(inv, [], ['nope'])).toThrow('--machine nope: not in lab.json; machines: rack1-ixgbe, sim-qemu, sim-veth');
  });

  it('names the file and the JSON pointer of every bad field', () => {
    const msg = refusal({
      schema: 'nicmatrix.lab/2',
      name: '',
      extra: 1,
      machines: [
        { name: 'a b', labels: [], ports: [{ dut: 'eth0', peer: 'ssh://host' }, { dut: 'eth0' }], targets: ['qemu:'] },
        { name: 'dup', labels: ['x'], targets: ['veth'], checks: ['TX/*'] },
        { name: 'dup', labels: ['x'] },
      ],
    });
    const lines = msg.split('\n');
    expect(lines.every((l) => l.startsWith('lab.json: /'))).toBe(true);
    expect(msg).toContain('lab.json: /schema: must be "nicmatrix.lab/1", found "nicmatrix.lab/2"');
    expect(msg).toContain('lab.json: /extra: is not a field here');
    expect(msg).toContain("lab.json: /name: must be the lab's name");
    expect(msg).toContain('lab.json: /machines/0/name: must be a name of letters');
    expect(msg).toContain('lab.json: /machines/0/labels: must be a non-empty list of runner labels');
    expect(msg).toContain(
      'lab.json: /machines/0/ports/0: target "phys:eth0,ssh://host": peer expected ssh://[USER@]HOST[:PORT]/[NETNS/]IF: the peer interface is missing after the host',
    );
    expect(msg).toContain('lab.json: /machines/0/ports/1/peer: must be [NETNS/]IF or ssh://');
    expect(msg).toContain('lab.json: /machines/0/targets/0: target "qemu:": expected qemu:MODEL');
    expect(msg).toContain('lab.json: /machines/1/checks/0: must be check globs');
    expect(msg).toContain('lab.json: /machines/2/name: "dup" is already the name of /machines/1');
    expect(msg).toContain('lab.json: /machines/2: has neither ports nor targets');
    expect(() => parseInventory('{', 'lab.json')).toThrow(/^lab\.json: not valid JSON/);
  });

  it('plans every machine before running: a glob matching no check stops it all, naming where it came from', () => {
    const inv = parse(inventory);
    const plan = planLab({ inventory: inv, machines: inv.machines.slice(1), outDir: 'out/lab', checkGlobs: [] });
    expect(plan.map((p) => [p.file, p.checks.map((c) => c.id)])).toEqual([
      ['out/lab/sim-qemu.json', ['tx-csum/ipv4-udp']],
      ['out/lab/sim-veth.json', expect.arrayContaining(['tx-csum/ipv4-udp', 'tx-csum/vlan'])],
    ]);
    const bad = parse({ ...inventory, machines: [{ ...inventory.machines[1], checks: ['nosuch/*'] }] });
    expect(() => planLab({ inventory: bad, machines: bad.machines, outDir: 'o', checkGlobs: [] })).toThrow(
      /^lab\.json: machine sim-qemu: checks: nosuch\/\* matches no check/,
    );
    expect(() => planLab({ inventory: inv, machines: inv.machines, outDir: 'o', checkGlobs: ['zzz'] })).toThrow(
      /^--checks: zzz matches no check/,
    );
  });

  it('the host guard matches a short name to its FQDN and nothing else', () => {
    const [m] = parse(inventory).machines;
    expect(hostMatches(m!, 'rack1')).toBe(true);
    expect(hostMatches(m!, 'RACK1.lab.example')).toBe(true);
    expect(hostMatches(m!, 'rack2')).toBe(false);
    expect(inventoryIssues({ ...inventory, machines: [{ ...inventory.machines[2], host: '' }] })[0]!.pointer).toBe('/machines/0/host');
  });
});

describe('remote peer specs', () => {
  it('parses ssh:// peer ends with user, port, IPv6 host and a namespace', () => {
    expect(parseTargetSpec('phys:eth1,ssh://root@host/eth2')).toEqual({
      kind: 'phys',
      spec: 'phys:eth1,ssh://root@host/eth2',
      dut: { ifname: 'eth1' },
      peer: { ifname: 'eth2' },
      remote: { user: 'root', host: 'host' },
    });
    expect(parseTargetSpec('phys:ns/eth1,ssh://[2001:db8::5]:2200/pns/eth2')).toMatchObject({
      dut: { netns: 'ns', ifname: 'eth1' },
      peer: { netns: 'pns', ifname: 'eth2' },
      remote: { host: '2001:db8::5', port: 2200 },
    });
    expect(describeRemote({ host: '2001:db8::5', port: 2200, user: 'lab' })).toBe('lab@[2001:db8::5]:2200');
    expect(parseSshEnd('ssh://h/if')).toEqual({ remote: { host: 'h' }, path: 'if' });
  });

  it('refuses passwords, missing interfaces, other schemes and bad names', () => {
    const bad = [
      'phys:eth1,ssh://root:pw@host/eth2',
      'phys:eth1,ssh://host',
      'phys:eth1,ssh://host/eth2?x=1',
      'phys:eth1,ssh://host/this-name-is-too-long0',
      'phys:eth1,ssh://-oProxyCommand=x/eth2',
    ];
    for (const s of bad)
      expect(() => parseTargetSpec(s), s).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'TARGET_SPEC' }));
  });

  it('builds a non-interactive ssh command line with the remote words quoted', () => {
    expect(shellQuote('eth0')).toBe('eth0');
    expect(shellQuote("it's; rm -rf /")).toBe(`'it'\\''s; rm -rf /'`);
    const args = sshArgs({ user: 'root', host: 'peer', port: 2222 }, 'true', { NICMATRIX_SSH_CONFIG: '/etc/lab/ssh_config' });
    expect(args).toEqual(expect.arrayContaining(['-T', 'BatchMode=yes', '-F', '/etc/lab/ssh_config', '-p', '2222', '-l', 'root']));
    expect(args.slice(-3)).toEqual(['--', 'peer', 'true']);
  });
});
