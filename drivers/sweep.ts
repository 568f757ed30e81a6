/**
 * Leftovers of a controller that was killed outright (SIGKILL, power loss)
 * cannot be cleaned by that controller: the next run sweeps them. Only netns
 * named by the harness (nm-<pid>-…) whose pid is gone are touched.
 */
import { run } from '../harness/sys/exec.js';
import { NETNS_PREFIX } from './names.js';

const OWNER = new RegExp(`^${NETNS_PREFIX}(\\d+)-`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM means it exists but is not ours to signal: still alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Netns names of dead controllers (pure on the list given). */
export function staleNetns(names: readonly string[], isAlive: (pid: number) => boolean = alive): string[] {
  return names.filter((n) => {
    const m = OWNER.exec(n);
    return m !== null && !isAlive(Number(m[1]));
  });
}

/** Kills what still runs in each stale netns (a QEMU, an agent) and deletes it, with its tap and veth. */
export async function sweepStale(log: (line: string) => void = () => undefined): Promise<string[]> {
  const r = await run('ip', ['-json', 'netns', 'list'], { reject: false });
  const names = r.stdout.trim() ? (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name) : [];
  const stale = staleNetns(names);
  for (const ns of stale) {
    const pids = await run('ip', ['netns', 'pids', ns], { reject: false });
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await run('ip', ['netns', 'delete', ns], { reject: false });
    log(`removed ${ns}, left by a nicmatrix process that no longer runs`);
  }
  return stale;
}
