/** What the harness may leave behind: netns, veth/tap links, agents, QEMU processes. */
import { execa } from 'execa';

export async function harnessNetns(): Promise<string[]> {
  const r = await execa('ip', ['-json', 'netns', 'list'], { reject: false });
  const list = r.stdout.trim() ? (JSON.parse(r.stdout) as { name: string }[]) : [];
  return list.map((n) => n.name).filter((n) => n.startsWith('nm-'));
}

export async function harnessProcesses(pids: number[] = []): Promise<string[]> {
  const r = await execa('ps', ['-eo', 'pid,ppid,args'], { reject: false });
  return r.stdout
    .split('\n')
    .filter((l) => /dist\/harness\/agent\/main\.js|qemu-system/.test(l))
    .filter((l) => pids.length === 0 || pids.some((p) => new RegExp(`^\\s*\\d+\\s+${p}\\s`).test(l)));
}

/** Netns created by a given process id (names carry the pid). */
export async function netnsOf(pid: number): Promise<string[]> {
  return (await harnessNetns()).filter((n) => n.startsWith(`nm-${pid}-`));
}
