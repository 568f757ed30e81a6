/**
 * The sparc64 guest (qemu:sunhme), measured here rather than in CI (its first
 * kernel build takes about an hour): the kernel's build time (recorded once
 * by the build), the native agent's sizes, and QEMU launch to agent-ready.
 */
import fs from 'node:fs/promises';
import { nativeAgentPath } from '../../harness/agent/native.js';
import { describeError } from '../../harness/codec/errors.js';
import { QemuDut } from '../../drivers/qemu/dut.js';
import { ensureSparc64Image, sparc64KernelBuildSeconds } from '../../drivers/qemu/sparc64.js';

export async function benchSunhme(): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const image = await ensureSparc64Image();
  const imageMs = Date.now() - t0;
  const sizes: Record<string, number> = {};
  for (const arch of ['host', 'sparc64'] as const) sizes[arch] = (await fs.stat(await nativeAgentPath(arch))).size;
  const dut = new QemuDut({ kind: 'qemu', spec: 'qemu:sunhme', model: 'sunhme', options: {} });
  const t1 = Date.now();
  try {
    await dut.start(new AbortController().signal);
    const startMs = Date.now() - t1;
    const facts = await dut.collect();
    return {
      kernelBuildSeconds: await sparc64KernelBuildSeconds(image.kernel),
      imageMs,
      nativeAgentBytes: sizes,
      bootMs: facts.evidence.bootMs,
      startMs,
      driver: facts.driver.name,
      features: Object.fromEntries(Object.entries(facts.features).filter(([k, v]) => v.active && /checksum|scatter|segmentation/.test(k))),
    };
  } catch (e) {
    return { kernelBuildSeconds: await sparc64KernelBuildSeconds(image.kernel), imageMs, nativeAgentBytes: sizes, error: describeError(e) };
  } finally {
    await dut.stop();
  }
}
