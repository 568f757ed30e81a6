/**
 * One running QEMU guest: the process (started inside the peer's netns, so it
 * opens the tap there), its console, its agent client on QEMU's stdio, and how
 * it ended. Stopping is graceful first: closing the agent's stream ends the
 * agent, whose init then powers the guest off.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { AgentClient } from '../../harness/agent/client.js';
import { cleanup, type Teardown } from '../../harness/sys/cleanup.js';
import { stopChild } from '../../harness/sys/process.js';
import { consoleTail, type QemuExit } from './console.js';
import { QEMU_BINARY } from './qemu-args.js';

/** Console read back at most this far from its end. */
const CONSOLE_MAX = 256 * 1024;
/** After the agent's stream closes, how long the guest gets to power off by itself. */
export const GUEST_POWEROFF_MS = 5_000;

let guestCount = 0;
/** USER_HZ: /proc reports CPU times in these ticks (100 on every Linux architecture nicmatrix runs on). */
const CLOCK_TICKS = 100;

export class GuestProcess {
  readonly client: AgentClient;
  /** Resolves when QEMU has ended, however it did. */
  readonly exited: Promise<QemuExit>;
  private exitInfo: QemuExit | null = null;
  /** QEMU's own stderr (its errors), kept apart from the guest's console. */
  private stderr = '';
  /** The console as last read, kept once the directory is gone. */
  private consoleCache = '';
  /** Unset only between the teardown's registration and the spawn. */
  private child: ResultPromise | undefined;
  readonly teardown: Teardown;

  /**
   * Starts QEMU in `netns` with `args` plus the console file option. Teardowns
   * (the console's directory, then QEMU) are registered before each creation.
   */
  constructor(
    readonly name: string,
    netns: string,
    args: readonly string[],
    binary: string = QEMU_BINARY,
  ) {
    // The console goes to a file: node's stdio pipes are socketpairs, which QEMU cannot open by path.
    const dir = path.join(os.tmpdir(), `nicmatrix-qemu-${process.pid}-${++guestCount}`);
    const dirTeardown = cleanup.register(`console dir ${dir}`, () => {
      this.readConsole();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    // recursive: a stale directory of a process with the same pid is reused (QEMU truncates the file).
    fs.mkdirSync(dir, { mode: 0o700, recursive: true });
    this.consolePath = path.join(dir, 'console.log');
    const qemuTeardown = cleanup.register(`qemu ${name}`, async () => {
      if (!this.child) return;
      // Asking nicely needs a live agent to hear it; a guest that never answered or hangs gets signals at once.
      if (this.answering) await stopChild(this.child, () => this.client.close(), GUEST_POWEROFF_MS);
      else await stopChild(this.child);
      this.client.close();
    });
    this.teardown = { label: `qemu ${name}`, run: async () => (await qemuTeardown.run(), await dirTeardown.run()) };
    const consoleArgs = ['-chardev', `file,id=console,path=${this.consolePath.replace(/,/g, ',,')}`, '-serial', 'chardev:console'];
    const child = execa('ip', ['netns', 'exec', netns, binary, ...args, ...consoleArgs], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      buffer: false,
      cleanup: true,
    });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-16_384);
    });
    this.exited = child.then(
      (r) => (this.exitInfo = { code: r.exitCode ?? null, signal: r.signal ?? null }),
      () => (this.exitInfo = { code: null, signal: null }),
    );
    this.client = new AgentClient(`${name} agent`, child.stdout!, child.stdin!, () => this.tail(600));
  }

  /** True once the agent said hello, until the guest is found hung. */
  private answering = false;

  /** Waits for the guest agent's hello. */
  async ready(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.client.ready(timeoutMs, signal);
    this.answering = true;
  }

  /** Marks the guest as not answering: stop then skips the graceful power-off. */
  markHung(): void {
    this.answering = false;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** CPU time QEMU has used so far (user + system), from /proc: what a boot costs whatever else the machine runs. */
  cpuMs(): number | undefined {
    try {
      const stat = fs.readFileSync(`/proc/${this.child?.pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Math.round(((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS);
    } catch {
      return undefined;
    }
  }

  /** How QEMU ended, or null while it runs. */
  get exit(): QemuExit | null {
    return this.exitInfo;
  }

  private readonly consolePath: string;

  private readConsole(): string {
    try {
      const fd = fs.openSync(this.consolePath, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const len = Math.min(size, CONSOLE_MAX);
        const buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, size - len);
        this.consoleCache = buf.toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // Not yet created, or already removed: the last read stands.
    }
    return this.consoleCache;
  }

  /** The serial console so far, then QEMU's own stderr lines (`qemu-system-x86_64: …`). */
  get console(): string {
    const con = this.readConsole();
    return this.stderr ? `${con}${con.endsWith('\n') || con === '' ? '' : '\n'}${this.stderr}` : con;
  }

  tail(max = 4000): string {
    return consoleTail(this.console, max);
  }

  /** Waits at most `ms` for QEMU to end; the exit, or null if it still runs. */
  async exitWithin(ms: number): Promise<QemuExit | null> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.exited, new Promise<null>((res) => (timer = setTimeout(() => res(null), ms)))]);
    clearTimeout(timer);
    return r;
  }

  stop(): Promise<void> {
    return this.teardown.run();
  }
}
