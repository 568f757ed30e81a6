import { describeError, NicmatrixError } from '../codec/errors.js';

/** A registered undo step; returned so the owner can run it early and drop it. */
export interface Teardown {
  readonly label: string;
  /** Runs the step now (once) and removes it from the registry. */
  run(): Promise<void>;
}

type Entry = { label: string; fn: () => Promise<void> | void; done: boolean };

/**
 * One process-wide registry of undo steps. Teardowns are registered before the
 * setup they undo runs, and run in reverse order: on normal end, on error, and
 * on SIGINT/SIGTERM.
 */
class CleanupRegistry {
  private entries: Entry[] = [];
  private running: Promise<string[]> | null = null;
  /** Errors of teardowns, kept so the caller can report them. */
  readonly failures: string[] = [];

  register(label: string, fn: () => Promise<void> | void): Teardown {
    const entry: Entry = { label, fn, done: false };
    this.entries.push(entry);
    return {
      label,
      run: async () => {
        if (entry.done) return;
        entry.done = true;
        this.entries = this.entries.filter((e) => e !== entry);
        await this.safely(entry);
      },
    };
  }

  get size(): number {
    return this.entries.length;
  }

  /** Runs every pending teardown, newest first; never throws. Returns failure messages. */
  runAll(): Promise<string[]> {
    if (this.running) return this.running;
    this.running = (async () => {
      const errors: string[] = [];
      while (this.entries.length > 0) {
        const entry = this.entries.pop()!;
        if (entry.done) continue;
        entry.done = true;
        const err = await this.safely(entry);
        if (err) errors.push(err);
      }
      this.running = null;
      return errors;
    })();
    return this.running;
  }

  private async safely(entry: Entry): Promise<string | undefined> {
    try {
      await entry.fn();
      return undefined;
    } catch (e) {
      const msg = `cleanup "${entry.label}" failed: ${describeError(e)}`;
      this.failures.push(msg);
      return msg;
    }
  }
}

export const cleanup = new CleanupRegistry();

let signalsInstalled = false;
const abortController = new AbortController();

/** Aborted when the user interrupts the run (SIGINT/SIGTERM); long work listens to it. */
export const interruptSignal: AbortSignal = abortController.signal;

/**
 * On SIGINT/SIGTERM: abort running work and undo everything registered, then
 * let the process end with 130/143. A second signal skips straight to exit.
 */
export function installSignalHandlers(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    const code = sig === 'SIGINT' ? 130 : 143;
    if (count > 1) {
      log(`nicmatrix: second ${sig}, exiting without waiting for cleanup`);
      process.exitCode = code;
      // Exiting here is the user's explicit request after a first cleanup attempt.
      process.kill(process.pid, 'SIGKILL');
      return;
    }
    log(`nicmatrix: ${sig} received, stopping and cleaning up (press again to force)`);
    abortController.abort(new NicmatrixError('INTERRUPTED', `interrupted by ${sig}`));
    void cleanup.runAll().then((errors) => {
      for (const e of errors) log(`nicmatrix: ${e}`);
      process.exitCode = code;
      // Let pending I/O settle; handles that linger must not keep us alive.
      setTimeout(() => process.exit(code), 200).unref();
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}
