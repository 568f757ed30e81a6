/** Unique, short names for what the harness creates, so concurrent runs never collide. */
let counter = 0;

/** Prefix of every netns the harness creates: leftovers are recognisable by it. */
export const NETNS_PREFIX = 'nm-';

/** A fresh netns name: prefix, pid, a counter and a role (`nm-1234-3-dut`). */
export function netnsName(role: string): string {
  return `${NETNS_PREFIX}${process.pid}-${++counter}-${role}`;
}

/** A fresh interface name within IFNAMSIZ (15 chars): `nm` + base36 pid + counter + role letter. */
export function ifName(role: string): string {
  return `nm${process.pid.toString(36)}${(++counter).toString(36)}${role}`.slice(0, 15);
}

/** Per-instance index for address plans, distinct within this process. */
export function nextInstance(): number {
  return ++counter;
}
