/** Parsing of target specs (pure): `lo`, `veth`, `qemu:MODEL[,k=v…]`, `phys:[NS/]IF,[NS/]IF`. */
import { NicmatrixError } from '../matrix/errors.js';
import { parseSshEnd, REMOTE_END_HELP } from './remote-spec.js';
import type { TargetSpec } from './types.js';

/** A target spec the user got wrong: `TARGET_SPEC`, raised before anything starts. */
const specError = (message: string): NicmatrixError => new NicmatrixError('TARGET_SPEC', message);

const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const NETNS = /^[A-Za-z0-9_.-]{1,64}$/;

export const TARGET_SPEC_HELP = `lo | veth | qemu:MODEL[,key=value…] | phys:[NETNS/]DUT_IF,[NETNS/]PEER_IF | phys:[NETNS/]DUT_IF,${REMOTE_END_HELP} (any of them with ,agent=native: the static C agent serves the DUT)`;

/** The `agent=node|native` option any target takes (`veth,agent=native`): which agent program serves the DUT side. */
const AGENT_OPTION = /,agent=([^,]*)/g;

export function parseTargetSpec(spec: string): TargetSpec {
  const s = spec.trim();
  const agents = [...s.matchAll(AGENT_OPTION)].map((m) => m[1]);
  if (agents.length === 0) return parseBase(s, spec);
  const agent = agents[agents.length - 1];
  if (agent !== 'node' && agent !== 'native')
    throw specError(`target "${spec}": expected agent=node or agent=native, found agent=${agent}`);
  return { ...parseBase(s.replace(AGENT_OPTION, ''), spec), spec: s, agent };
}

function parseBase(s: string, spec: string): TargetSpec {
  if (s === 'lo' || s === 'veth') return { kind: s, spec: s };
  const colon = s.indexOf(':');
  const kind = colon < 0 ? s : s.slice(0, colon);
  const rest = colon < 0 ? '' : s.slice(colon + 1);
  if (kind === 'qemu') {
    const [model, ...opts] = rest.split(',');
    if (!model || !/^[A-Za-z0-9_-]+$/.test(model))
      throw specError(`target "${spec}": expected qemu:MODEL (e.g. qemu:e1000), found no model name`);
    const options: Record<string, string> = {};
    for (const o of opts) {
      const eq = o.indexOf('=');
      if (eq <= 0) throw specError(`target "${spec}": expected key=value after the model, found "${o}"`);
      options[o.slice(0, eq)] = o.slice(eq + 1);
    }
    return { kind: 'qemu', spec: s, model, options };
  }
  if (kind === 'phys') {
    const parts = rest.split(',');
    if (parts.length !== 2)
      throw specError(`target "${spec}": expected phys:DUT_IF,PEER_IF (each optionally NETNS/IF), found ${parts.length} interface(s)`);
    const dutText = parts[0]!;
    const peerText = parts[1]!;
    if (peerText.startsWith('ssh://')) {
      const remote = parseSshEnd(peerText);
      if (typeof remote === 'string') throw specError(`target "${spec}": peer ${remote}`);
      return { kind: 'phys', spec: s, dut: parseEnd(spec, dutText), peer: parseEnd(spec, remote.path), remote: remote.remote };
    }
    const dut = parseEnd(spec, dutText);
    const peer = parseEnd(spec, peerText);
    return { kind: 'phys', spec: s, dut, peer };
  }
  throw specError(`target "${spec}": unknown kind "${kind}"; expected one of: ${TARGET_SPEC_HELP}`);
}

function parseEnd(spec: string, text: string): { netns?: string; ifname: string } {
  const slash = text.indexOf('/');
  const netns = slash < 0 ? undefined : text.slice(0, slash);
  const ifname = slash < 0 ? text : text.slice(slash + 1);
  if (netns !== undefined && !NETNS.test(netns)) throw specError(`target "${spec}": "${netns}" is not a valid network namespace name`);
  if (!IFNAME.test(ifname))
    throw specError(`target "${spec}": "${ifname}" is not a valid interface name (1–15 characters, no spaces or slashes)`);
  return netns === undefined ? { ifname } : { netns, ifname };
}
