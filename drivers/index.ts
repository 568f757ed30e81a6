/** Makes the Dut for a parsed target spec. */
import { type LocalDut, localHost } from './local.js';
import { LoopbackDut } from './lo.js';
import { PhysDut } from './phys.js';
import type { Dut, TargetSpec } from './types.js';
import { VethDut } from './veth.js';

export async function createDut(spec: TargetSpec): Promise<Dut> {
  switch (spec.kind) {
    case 'lo':
      return withAgent(new LoopbackDut(spec.spec), spec);
    case 'veth':
      return withAgent(new VethDut(spec.spec), spec);
    case 'phys': {
      // The remote peer is configuration of the same driver: only the host its commands and agent run on differs.
      const peerHost = spec.remote ? (await import('./ssh.js')).sshHost(spec.remote) : localHost;
      return withAgent(new PhysDut(spec.spec, { dut: { ...spec.dut, host: localHost }, peer: { ...spec.peer, host: peerHost } }), spec);
    }
    case 'qemu': {
      // Imported on first use: lo, veth and phys runs never load the QEMU driver.
      const { QemuDut } = await import('./qemu/dut.js');
      return new QemuDut(spec);
    }
  }
}

/** Applies the spec's `agent=` choice to a target whose agents run on this host. */
function withAgent<T extends LocalDut>(dut: T, spec: TargetSpec): T {
  dut.agentKind = spec.agent ?? 'node';
  return dut;
}
