/** Makes the Dut for a parsed target spec. */
import { LoopbackDut } from './lo.js';
import { PhysDut } from './phys.js';
import type { Dut, TargetSpec } from './types.js';
import { VethDut } from './veth.js';

export async function createDut(spec: TargetSpec): Promise<Dut> {
  switch (spec.kind) {
    case 'lo':
      return new LoopbackDut(spec.spec);
    case 'veth':
      return new VethDut(spec.spec);
    case 'phys':
      if (spec.remote) {
        const { RemotePeerDut } = await import('./remote.js');
        return new RemotePeerDut(spec.spec, { dut: spec.dut, peer: spec.peer, remote: spec.remote });
      }
      return new PhysDut(spec.spec, { dut: spec.dut, peer: spec.peer });
    case 'qemu': {
      // Loaded lazily: the QEMU driver is large and most runs do not need it.
      const { QemuDut } = await import('./qemu/dut.js');
      return new QemuDut(spec);
    }
  }
}
