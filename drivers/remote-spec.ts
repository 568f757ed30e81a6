/**
 * The remote end of a `phys:` target (pure): `ssh://[USER@]HOST[:PORT]/[NETNS/]IF`,
 * the peer port on another host reached over ssh, like the kernel's
 * REMOTE_TYPE=ssh driver tests. The agent runs there over the ssh session's stdio.
 */

/** Where the remote peer lives; the interface is the spec's peer end. */
export interface RemoteHost {
  user?: string;
  /** Host name or address (IPv6 without brackets). */
  host: string;
  port?: number;
}

export const REMOTE_END_HELP = 'ssh://[USER@]HOST[:PORT]/[NETNS/]IF';

const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;
const HOST = /^[A-Za-z0-9.:-]{1,253}$/;

/** Splits an ssh:// peer end into the host and the `[NETNS/]IF` path; a string result is the reason it is not one. */
export function parseSshEnd(text: string): { remote: RemoteHost; path: string } | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a valid ${REMOTE_END_HELP} address`;
  }
  if (url.protocol !== 'ssh:') return `expected ${REMOTE_END_HELP}, found scheme "${url.protocol}"`;
  if (url.password) return 'put no password in the address: the remote peer needs key authentication (BatchMode)';
  if (url.search || url.hash) return `expected ${REMOTE_END_HELP}, found "${url.search}${url.hash}" after the interface`;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!HOST.test(host) || host.startsWith('-')) return `"${url.hostname}" is not a valid host name or address`;
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  if (user !== undefined && !USER.test(user)) return `"${user}" is not a valid user name`;
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!path) return `expected ${REMOTE_END_HELP}: the peer interface is missing after the host`;
  const remote: RemoteHost = { host, ...(user ? { user } : {}), ...(url.port ? { port: Number(url.port) } : {}) };
  return { remote, path };
}

/** `user@host:port` for messages and evidence. */
export function describeRemote(r: RemoteHost): string {
  const host = r.host.includes(':') ? `[${r.host}]` : r.host;
  return `${r.user ? `${r.user}@` : ''}${host}${r.port ? `:${r.port}` : ''}`;
}
