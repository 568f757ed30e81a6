import type { ResultPromise } from 'execa';

/** How long a child gets to exit after a polite request before SIGTERM. */
export const GRACEFUL_EXIT_MS = 2_000;
/** How long after SIGTERM before SIGKILL. */
export const KILL_DELAY_MS = 3_000;

/**
 * Stops a child: `polite()` first (close its input, ask over its channel),
 * then SIGTERM after GRACEFUL_EXIT_MS, then SIGKILL after KILL_DELAY_MS.
 * Resolves once the child is really gone.
 */
export async function stopChild(child: ResultPromise, polite?: () => void, graceMs = GRACEFUL_EXIT_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = child.then(
    () => undefined,
    () => undefined,
  );
  const waitFor = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  try {
    polite?.();
  } catch {
    // The polite path is a courtesy; the signals below do the real work.
  }
  if (polite && (await waitFor(graceMs))) return;
  child.kill('SIGTERM');
  if (await waitFor(KILL_DELAY_MS)) return;
  child.kill('SIGKILL');
  await exited;
}
