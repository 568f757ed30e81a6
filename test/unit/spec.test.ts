import { describe, expect, it } from 'vitest';
import { parseTargetSpec } from '../../drivers/spec.js';

describe('parseTargetSpec', () => {
  it('parses every kind', () => {
    expect(parseTargetSpec('lo')).toEqual({ kind: 'lo', spec: 'lo' });
    expect(parseTargetSpec('veth')).toEqual({ kind: 'veth', spec: 'veth' });
    expect(parseTargetSpec('qemu:e1000')).toMatchObject({ kind: 'qemu', model: 'e1000', options: {} });
    expect(parseTargetSpec('qemu:virtio-net-pci,backend=tap-vnet')).toMatchObject({
      model: 'virtio-net-pci',
      options: { backend: 'tap-vnet' },
    });
    expect(parseTargetSpec('phys:eth0,peerns/eth1')).toEqual({
      kind: 'phys',
      spec: 'phys:eth0,peerns/eth1',
      dut: { ifname: 'eth0' },
      peer: { netns: 'peerns', ifname: 'eth1' },
    });
  });

  it('takes agent=node|native on any kind, keeping it in the spec text', () => {
    expect(parseTargetSpec('veth,agent=native')).toEqual({ kind: 'veth', spec: 'veth,agent=native', agent: 'native' });
    expect(parseTargetSpec('lo,agent=node')).toEqual({ kind: 'lo', spec: 'lo,agent=node', agent: 'node' });
    expect(parseTargetSpec('qemu:e1000,agent=native,mem=256')).toMatchObject({ model: 'e1000', options: { mem: '256' }, agent: 'native' });
    expect(parseTargetSpec('phys:eth0,peerns/eth1,agent=native')).toMatchObject({
      peer: { netns: 'peerns', ifname: 'eth1' },
      agent: 'native',
    });
    expect(parseTargetSpec('phys:eth0,ssh://lab@host/eth1,agent=native')).toMatchObject({ remote: { host: 'host' }, agent: 'native' });
    expect(() => parseTargetSpec('veth,agent=python')).toThrow(/expected agent=node or agent=native, found agent=python/);
  });

  it.each([
    ['', /unknown kind/],
    ['vethx', /unknown kind "vethx"/],
    ['qemu:', /expected qemu:MODEL/],
    ['qemu:e1000,novalue', /expected key=value.*"novalue"/],
    ['phys:eth0', /expected phys:DUT_IF,PEER_IF.*found 1/],
    ['phys:eth0,this-name-is-too-long', /not a valid interface name/],
    ['phys:bad ns/eth0,eth1', /not a valid network namespace/],
  ])('rejects %j with a message naming the cause', (spec, msg) => {
    expect(() => parseTargetSpec(spec)).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'TARGET_SPEC' }));
    expect(() => parseTargetSpec(spec)).toThrow(msg);
  });
});
