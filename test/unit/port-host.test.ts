import { describe, expect, it } from 'vitest';
import { localHost } from '../../drivers/local.js';
import { sshHost } from '../../drivers/ssh.js';

describe('the hosts a phys port lives on', () => {
  it('this host names its namespaces as the missing-port message says them', () => {
    expect(localHost.where(undefined)).toBe('the host namespace');
    expect(localHost.where('peerns')).toBe('network namespace peerns');
    expect(localHost.evidence()).toBeUndefined();
  });

  it('a remote host is named by its ssh address, is another place than this host, and says its agent', () => {
    const host = sshHost({ user: 'root', host: '2001:db8::2', port: 2222 });
    expect(host.kind).toBe('ssh');
    expect(host.where(undefined)).toBe('root@[2001:db8::2]:2222');
    expect(host.where('lab')).toBe('network namespace lab on root@[2001:db8::2]:2222');
    expect(host.id).not.toBe(localHost.id);
    expect(sshHost({ host: 'b' }).id).not.toBe(sshHost({ host: 'a' }).id);
    // Before `check` found otherwise, the remote end runs the Node agent.
    expect(host.evidence()).toEqual({ host: 'root@[2001:db8::2]:2222', agent: 'node' });
  });
});
