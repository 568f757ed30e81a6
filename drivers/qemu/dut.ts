/**
 * `qemu:<model>`: the emulated NIC inside a QEMU guest is the DUT; its backend
 * is a tap device in a fresh peer netns on the host, where an ordinary netns
 * agent is the peer. Spec syntax: `qemu:MODEL[,key=value…]` (see options.ts),
 * e.g. `qemu:e1000`, `qemu:virtio-net-pci,vnet_hdr=on`,
 * `qemu:e1000e,kernel=/src/linux/arch/x86/boot/bzImage,modules=/tmp/mods/lib/modules/6.9.0`.
 */
import { raisedByAgent } from '../../harness/agent/client.js';
import { nativeAgentPath } from '../../harness/agent/native.js';
import { spawnLocalAgent } from '../../harness/agent/spawn.js';
import type { ActionName, ActionParams, ActionResult } from '../../harness/agent/protocol.js';
import { isNicmatrixError, NicmatrixError } from '../../harness/codec/errors.js';
import { DutBase } from '../base.js';
import { ifName, netnsName, nextInstance } from '../names.js';
import { addressPair, configureAddresses, createNetns, pinNeighbour } from '../netns.js';
import type { LinkInfo, RunActionOptions, Side, TargetFacts, TargetSpec } from '../types.js';
import { type AccelDecision, chooseAccel } from './accel.js';
import { type AgentEntry, ensureAgentBundle } from './agent-bundle.js';
import { catalogueMismatches, findQemuModel, QEMU_MODELS, type QemuModel } from './catalogue.js';
import { diagnoseGuest, parseNicLine } from './console.js';
import { GuestProcess } from './guest.js';
import { ensureGuestImage, type GuestImage } from './image.js';
import { kernelCmdline, NO_NODE } from './init-script.js';
import { backendOf, parseQemuOptions, type QemuOptions } from './options.js';
import { guestArgs } from './qemu-args.js';
import { ensureSparc64Image, SPARC64_QEMU, sparc64Cmdline, sparc64GuestArgs } from './sparc64.js';
import { createTap, tapMac } from './wire.js';

/** Name the guest's init gives the NIC under test. */
export const GUEST_IFNAME = 'eth0';
/** A sparc64 guest under TCG boots slower than an x86 one. */
const SPARC64_BOOT_TIMEOUT_MS = 180_000;
/** How long a dead agent's QEMU gets to be seen exiting, so the error can say how it ended. */
const EXIT_NOTICE_MS = 3_000;
/** A guest that does not answer a ping this fast after an action timed out is taken as hung. */
const HUNG_PING_MS = 5_000;
/** While an action runs, the guest is pinged this often; HUNG_MISSES unanswered pings in a row are a hang. */
const HUNG_WATCH_MS = 10_000;
const HUNG_MISSES = 2;

/** A guest DUT: the shared lifecycle, plus the guest process, its image and its boot. */
export class QemuDut extends DutBase {
  readonly model: QemuModel;
  readonly options: QemuOptions;
  /** Names of what this target created, for tests that check nothing is left behind. */
  readonly names = { peerNetns: '', tap: '', dutMac: '' };
  private guest: GuestProcess | undefined;
  private image: GuestImage | undefined;
  private accel: AccelDecision | undefined;
  private bootMs: number | undefined;
  private bootCpuMs: number | undefined;
  private agentEntry: AgentEntry | undefined;

  constructor(target: Extract<TargetSpec, { kind: 'qemu' }>) {
    super(target.spec);
    const model = findQemuModel(target.model);
    if (!model)
      throw new NicmatrixError(
        'TARGET_SPEC',
        `target "${target.spec}": unknown QEMU model "${target.model}"; expected one of: ${QEMU_MODELS.map((m) => m.model).join(', ')}`,
      );
    this.model = model;
    this.options = parseQemuOptions(target.spec, target.options);
  }

  /** PID of QEMU while it runs (tests kill it to simulate a crash). */
  get qemuPid(): number | undefined {
    return this.guest?.exit === null ? this.guest.pid : undefined;
  }

  protected async setup(signal: AbortSignal): Promise<LinkInfo> {
    const o = this.options;
    // sparc64 (qemu:sunhme): the cross-built kernel, the native agent as init, TCG on any host.
    const sparc = this.model.arch === 'sparc64';
    this.image = sparc ? await ensureSparc64Image(signal) : await ensureGuestImage({ kernel: o.kernel, modules: o.modules }, signal);
    this.accel = sparc ? { accel: 'tcg', reason: 'a sparc64 guest runs under TCG on any host' } : await chooseAccel(o.accel, this.image);
    this.agentEntry = sparc
      ? { path: '/init', bundled: false, note: 'the static native agent (sparc64) is the guest init' }
      : o.agent === 'native'
        ? { path: await nativeAgentPath('host', signal), bundled: false, note: 'the static native agent, read over 9p' }
        : await ensureAgentBundle();
    const n = nextInstance();
    const plan = addressPair(n);
    const names = this.names;
    names.peerNetns = netnsName('qpeer');
    names.tap = ifName('t');
    names.dutMac = `52:54:00:${hex(process.pid)}:${hex(n >> 8)}:${hex(n)}`;
    this.teardowns.push(await createNetns(names.peerNetns));
    this.teardowns.push(await createTap(names.peerNetns, names.tap));
    await configureAddresses(names.peerNetns, names.tap, plan.peer);
    const peerMac = await tapMac(names.peerNetns, names.tap);
    await pinNeighbour({ netns: names.peerNetns, ifname: names.tap }, plan.dut, names.dutMac);
    const boot = {
      mac: names.dutMac,
      ifname: GUEST_IFNAME,
      ipv4: `${plan.dut.ipv4}/${plan.dut.ipv4Prefix}`,
      ipv6: `${plan.dut.ipv6}/${plan.dut.ipv6Prefix}`,
      peerIpv4: plan.peer.ipv4,
      peerIpv6: plan.peer.ipv6,
      peerMac,
      extra: o.append,
    };
    const cmdline = sparc
      ? sparc64Cmdline(boot)
      : kernelCmdline({ ...boot, node: o.agent === 'native' ? NO_NODE : process.execPath, agent: this.agentEntry.path });
    const args = sparc
      ? sparc64GuestArgs({
          memMiB: o.memMiB,
          kernel: this.image.kernel,
          initrd: this.image.initrd,
          cmdline,
          mac: names.dutMac,
          tap: names.tap,
          model: this.model.device,
        })
      : guestArgs({
          accel: this.accel.accel,
          memMiB: o.memMiB,
          kernel: this.image.kernel,
          initrd: this.image.initrd,
          cmdline,
          device: this.model.device,
          mac: names.dutMac,
          tap: names.tap,
          vnetHdr: o.vnetHdr,
        });
    const t0 = Date.now();
    this.guest = new GuestProcess(this.spec, names.peerNetns, args, sparc ? SPARC64_QEMU : undefined);
    this.teardowns.push(this.guest.teardown);
    // The peer agent starts while the guest boots: node's start-up hides under the boot.
    const [booted, peer] = await Promise.allSettled([
      this.guest.ready(sparc ? Math.max(o.bootTimeoutMs, SPARC64_BOOT_TIMEOUT_MS) : o.bootTimeoutMs, signal),
      spawnLocalAgent(`${this.spec} peer agent`, names.peerNetns, signal),
    ]);
    if (peer.status === 'fulfilled') {
      this.agents.peer = peer.value.client;
      this.teardowns.push({ label: 'peer agent', run: peer.value.stop });
    }
    if (booted.status === 'rejected') throw await this.bootFault(booted.reason, o.bootTimeoutMs);
    if (peer.status === 'rejected') throw peer.reason;
    this.bootMs = Date.now() - t0;
    this.bootCpuMs = this.guest.cpuMs();
    const [d, p] = await Promise.all([
      this.run('dut', 'link.info', { ifname: GUEST_IFNAME }),
      this.run('peer', 'link.info', { ifname: names.tap }),
    ]);
    return {
      dut: { ifname: GUEST_IFNAME, mac: d.mac, mtu: d.mtu, ipv4: plan.dut.ipv4, ipv6: plan.dut.ipv6 },
      peer: { ifname: names.tap, mac: p.mac, mtu: p.mtu, ipv4: plan.peer.ipv4, ipv6: plan.peer.ipv6 },
      sameInterface: false,
    };
  }

  /** A hello that never came is the guest's fault whatever the console says; QEMU's end is diagnosed. */
  private async bootFault(e: unknown, ms: number): Promise<unknown> {
    if (!this.guest) return e;
    if (!isNicmatrixError(e, 'TIMEOUT')) return this.guestFault(e, 'while booting');
    return new NicmatrixError(
      'GUEST',
      `${this.spec}: the guest's agent was not ready within ${ms} ms: ${diagnoseGuest(this.guest.console, this.guest.exit)}`,
      {
        cause: e,
        details: { console: this.guest.tail(), qemuExit: this.guest.exit, accel: this.accel?.accel },
      },
    );
  }

  override async run<A extends ActionName>(
    side: Side,
    action: A,
    params: ActionParams<A>,
    opts: RunActionOptions = {},
  ): Promise<ActionResult<A>> {
    if (side === 'peer') return super.run(side, action, params, opts);
    if (!this.guest) throw new NicmatrixError('AGENT', `${this.spec}: no guest (the target is not started)`);
    const guest = this.guest;
    const call = guest.client.call(action, params, opts);
    const watch = this.watchGuest(guest);
    try {
      return await Promise.race([call, watch.hung]);
    } catch (e) {
      // A call left behind by a hang settles when the guest is stopped: nobody waits for it any more.
      call.catch(() => undefined);
      throw await this.guestFault(e, `while running ${action}`);
    } finally {
      watch.stop();
    }
  }

  /**
   * While an action runs, pings the guest's agent every HUNG_WATCH_MS: an
   * agent whose event loop answers nothing HUNG_MISSES times in a row sits in
   * a hung guest, found in seconds instead of at the action's own time-out.
   */
  private watchGuest(guest: GuestProcess): { hung: Promise<never>; stop: () => void } {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let misses = 0;
    const hung = new Promise<never>((_, reject) => {
      const tick = () => {
        timer = setTimeout(() => {
          void guest.client.call('agent.ping', {}, { timeoutMs: HUNG_PING_MS }).then(
            () => {
              misses = 0;
              if (!stopped) tick();
            },
            () => {
              if (stopped) return;
              if (++misses < HUNG_MISSES || guest.exit !== null) return tick();
              guest.markHung();
              reject(
                new NicmatrixError('TIMEOUT', `${this.spec}: the guest's agent answered no ping for ${HUNG_MISSES} × ${HUNG_PING_MS} ms`),
              );
            },
          );
        }, HUNG_WATCH_MS);
      };
      tick();
    });
    hung.catch(() => undefined);
    return {
      hung,
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  /**
   * Turns an agent failure into a GUEST error when the guest itself is at
   * fault (QEMU ended, or the guest stopped answering); other errors pass through.
   */
  private async guestFault(e: unknown, during: string): Promise<unknown> {
    const guest = this.guest;
    if (!guest || isNicmatrixError(e, 'GUEST') || raisedByAgent(e)) return e;
    let exit = guest.exit;
    if (isNicmatrixError(e, 'AGENT_EXITED')) exit = await guest.exitWithin(EXIT_NOTICE_MS);
    else if (isNicmatrixError(e, 'TIMEOUT') && exit === null) {
      const alive = await guest.client.call('agent.ping', {}, { timeoutMs: HUNG_PING_MS }).then(
        () => true,
        () => false,
      );
      if (alive) return e;
      guest.markHung();
    } else if (exit === null) return e;
    const tail = guest.tail();
    return new NicmatrixError('GUEST', `${this.spec}: ${diagnoseGuest(guest.console, exit)} (${during})`, {
      cause: e,
      details: { console: tail, qemuExit: exit, accel: this.accel?.accel },
    });
  }

  async collect(): Promise<TargetFacts> {
    if (!this.link || !this.guest || !this.image || !this.accel)
      throw new NicmatrixError('AGENT', `${this.spec}: collect() before start()`);
    const ifname = this.link.dut.ifname;
    // At once: each is a process the TCG guest starts, the agent runs them side by side.
    const [driver, features, { kernel }] = await Promise.all([
      this.run('dut', 'ethtool.driver', { ifname }),
      this.run('dut', 'ethtool.features', { ifname }),
      this.run('dut', 'agent.ping', {}),
    ]);
    const nic = parseNicLine(this.guest.console) ?? {};
    return {
      kind: 'qemu',
      device: { model: this.model.model, pciId: nic.pci ?? this.model.pciId, description: this.model.description },
      driver,
      kernel,
      features,
      dimensions: { accel: this.accel.accel, backend: backendOf(this.options) },
      evidence: {
        console: this.guest.tail(),
        bootMs: this.bootMs,
        bootCpuMs: this.bootCpuMs,
        agent: this.agentEntry ? { bundled: this.agentEntry.bundled, note: this.agentEntry.note } : undefined,
        accelReason: this.accel.reason,
        image: {
          source: this.image.source,
          release: this.image.release,
          hash: this.image.hash,
          // Firmware the NIC drivers declare: in the image, or found nowhere (a driver may then refuse the link).
          ...(this.image.firmware.included.length + this.image.firmware.missing.length > 0 ? { firmware: this.image.firmware } : {}),
        },
        expectedDriver: this.model.driver,
        // sysfs (the init's view) and ethtool -i (the agent's) name the same driver when all is well.
        sysfsDriver: nic.driver,
        catalogueMismatches: catalogueMismatches(this.model, driver.name, features),
      },
    };
  }

  protected override stopped(): void {
    this.guest = undefined;
    this.link = undefined;
  }
}

function hex(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}
