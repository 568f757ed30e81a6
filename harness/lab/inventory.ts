/**
 * The lab inventory (`nicmatrix.lab/1`, JSON): lab machines, their DUT/peer
 * port pairs and labels, extra targets and checks. Parsing, validation
 * (messages name the file and the JSON pointer) and selection by label are
 * pure; running is `run.ts`.
 */
import { parseTargetSpec } from '../../drivers/spec.js';
import { isNicmatrixError, NicmatrixError } from '../codec/errors.js';

export const LAB_SCHEMA = 'nicmatrix.lab/1';

/** A cabled port pair: the DUT port and its peer (`[NETNS/]IF`, or `ssh://[USER@]HOST[:PORT]/[NETNS/]IF` on another host). */
export interface LabPort {
  dut: string;
  peer: string;
}

export interface LabMachine {
  /** Unique in the inventory; names the machine's run record file. */
  name: string;
  /** When set, the machine runs only on the host of this name (a guard against running another machine's ports). */
  host?: string;
  /** CI runner labels: one lab job per label runs every machine carrying it. */
  labels: string[];
  ports: LabPort[];
  /** Other target specs run on this machine (`veth`, `qemu:e1000`...). */
  targets: string[];
  /** Check globs for this machine; else the inventory's; else all checks. */
  checks?: string[];
}

export interface LabInventory {
  name: string;
  file: string;
  checks?: string[];
  machines: LabMachine[];
}

interface Issue {
  pointer: string;
  message: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const GLOB = /^[a-z0-9*?][a-z0-9*?._/-]*$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

function fields(v: Record<string, unknown>, allowed: string[], at: string, issues: Issue[]): void {
  for (const k of Object.keys(v))
    if (!allowed.includes(k))
      issues.push({ pointer: `${at}/${k}`, message: `is not a field here (expected one of ${allowed.join(', ')})` });
}

function strings(
  v: unknown,
  at: string,
  issues: Issue[],
  pattern: RegExp,
  what: string,
  opts: { optional?: boolean; empty?: boolean } = {},
): void {
  if (v === undefined && opts.optional) return;
  if (!Array.isArray(v) || (v.length === 0 && !opts.empty))
    return void issues.push({ pointer: at, message: `must be a ${opts.empty ? '' : 'non-empty '}list of ${what}, found ${show(v)}` });
  v.forEach((s, i) => {
    if (typeof s !== 'string' || !pattern.test(s)) issues.push({ pointer: `${at}/${i}`, message: `must be ${what}, found ${show(s)}` });
  });
}

function spec(s: string, at: string, issues: Issue[]): void {
  try {
    parseTargetSpec(s);
  } catch (e) {
    if (!isNicmatrixError(e, 'TARGET_SPEC')) throw e;
    issues.push({ pointer: at, message: e.message });
  }
}

function machineIssues(m: unknown, at: string, issues: Issue[]): void {
  if (!isObject(m)) return void issues.push({ pointer: at, message: `must be a machine object, found ${show(m)}` });
  fields(m, ['name', 'host', 'labels', 'ports', 'targets', 'checks'], at, issues);
  if (typeof m.name !== 'string' || !NAME.test(m.name))
    issues.push({
      pointer: `${at}/name`,
      message: `must be a name of letters, digits, ".", "_" or "-" (it names the record file), found ${show(m.name)}`,
    });
  if (m.host !== undefined && (typeof m.host !== 'string' || m.host.trim() === ''))
    issues.push({ pointer: `${at}/host`, message: `must be a host name, found ${show(m.host)}` });
  strings(m.labels, `${at}/labels`, issues, LABEL, 'runner labels (letters, digits, ".", "_", "-")');
  strings(m.checks, `${at}/checks`, issues, GLOB, 'check globs such as "tx-csum/*"', { optional: true });
  if (m.ports !== undefined && !Array.isArray(m.ports))
    issues.push({ pointer: `${at}/ports`, message: `must be a list of {dut, peer}, found ${show(m.ports)}` });
  (Array.isArray(m.ports) ? m.ports : []).forEach((p, i) => {
    const pat = `${at}/ports/${i}`;
    if (!isObject(p)) return void issues.push({ pointer: pat, message: `must be {dut, peer}, found ${show(p)}` });
    fields(p, ['dut', 'peer'], pat, issues);
    for (const end of ['dut', 'peer'] as const) {
      if (typeof p[end] !== 'string' || p[end] === '')
        issues.push({
          pointer: `${pat}/${end}`,
          message: `must be ${end === 'dut' ? '[NETNS/]IF' : '[NETNS/]IF or ssh://[USER@]HOST[:PORT]/[NETNS/]IF'}, found ${show(p[end])}`,
        });
    }
    if (typeof p.dut === 'string' && typeof p.peer === 'string' && p.dut && p.peer) spec(`phys:${p.dut},${p.peer}`, pat, issues);
  });
  if (m.targets !== undefined && !Array.isArray(m.targets))
    issues.push({ pointer: `${at}/targets`, message: `must be a list of target specs, found ${show(m.targets)}` });
  (Array.isArray(m.targets) ? m.targets : []).forEach((t, i) => {
    if (typeof t !== 'string') issues.push({ pointer: `${at}/targets/${i}`, message: `must be a target spec, found ${show(t)}` });
    else spec(t, `${at}/targets/${i}`, issues);
  });
  const count = (Array.isArray(m.ports) ? m.ports.length : 0) + (Array.isArray(m.targets) ? m.targets.length : 0);
  if (count === 0) issues.push({ pointer: at, message: 'has neither ports nor targets: nothing to run' });
}

/** Validation issues of an inventory object; empty when it is valid. */
export function inventoryIssues(value: unknown): Issue[] {
  const issues: Issue[] = [];
  if (!isObject(value))
    return [{ pointer: '/', message: `must be a lab inventory object, found ${Array.isArray(value) ? 'a list' : show(value)}` }];
  fields(value, ['schema', 'name', 'checks', 'machines'], '', issues);
  if (value.schema !== LAB_SCHEMA) issues.push({ pointer: '/schema', message: `must be "${LAB_SCHEMA}", found ${show(value.schema)}` });
  if (typeof value.name !== 'string' || value.name.trim() === '')
    issues.push({ pointer: '/name', message: `must be the lab's name, found ${show(value.name)}` });
  strings(value.checks, '/checks', issues, GLOB, 'check globs such as "tx-csum/*"', { optional: true });
  if (!Array.isArray(value.machines) || value.machines.length === 0) {
    issues.push({ pointer: '/machines', message: `must be a non-empty list of machines, found ${show(value.machines)}` });
    return issues;
  }
  const names = new Map<string, number>();
  value.machines.forEach((m, i) => {
    machineIssues(m, `/machines/${i}`, issues);
    const name = isObject(m) ? m.name : undefined;
    if (typeof name !== 'string') return;
    if (names.has(name))
      issues.push({
        pointer: `/machines/${i}/name`,
        message: `"${name}" is already the name of /machines/${names.get(name)}; names must be unique`,
      });
    else names.set(name, i);
  });
  return issues;
}

/** Parses and validates inventory text (JSON); `file` names the source in every error. */
export function parseInventory(text: string, file: string): LabInventory {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NicmatrixError('USAGE', `${file}: not valid JSON: ${(e as Error).message}`, { cause: e, details: { file } });
  }
  const issues = inventoryIssues(value);
  if (issues.length > 0)
    throw new NicmatrixError('USAGE', issues.map((i) => `${file}: ${i.pointer}: ${i.message}`).join('\n'), { details: { file, issues } });
  const v = value as { name: string; checks?: string[]; machines: (Omit<LabMachine, 'ports' | 'targets'> & Partial<LabMachine>)[] };
  return {
    name: v.name,
    file,
    checks: v.checks,
    machines: v.machines.map((m) => ({ ...m, ports: m.ports ?? [], targets: m.targets ?? [] })),
  };
}

/** Every label of the inventory, in first-seen order. */
export function inventoryLabels(inv: LabInventory): string[] {
  return [...new Set(inv.machines.flatMap((m) => m.labels))];
}

/** The target specs of a machine: its port pairs as `phys:` targets, then its other targets. */
export function machineTargets(m: LabMachine): string[] {
  return [...m.ports.map((p) => `phys:${p.dut},${p.peer}`), ...m.targets];
}

/** Machines carrying any of `labels` (all when none), further limited to `names` when given; unknown ones are usage errors. */
export function selectMachines(inv: LabInventory, labels: readonly string[], names: readonly string[] = []): LabMachine[] {
  const known = inventoryLabels(inv);
  const badLabel = labels.filter((l) => !known.includes(l));
  if (badLabel.length > 0)
    throw new NicmatrixError('USAGE', `--label ${badLabel.join(', ')}: no machine in ${inv.file} carries it; labels: ${known.join(', ')}`);
  const badName = names.filter((n) => !inv.machines.some((m) => m.name === n));
  if (badName.length > 0)
    throw new NicmatrixError(
      'USAGE',
      `--machine ${badName.join(', ')}: not in ${inv.file}; machines: ${inv.machines.map((m) => m.name).join(', ')}`,
    );
  return inv.machines.filter(
    (m) => (labels.length === 0 || m.labels.some((l) => labels.includes(l))) && (names.length === 0 || names.includes(m.name)),
  );
}

/** Whether a machine's `host` guard allows running it on `hostname` (a short name matches its FQDN). */
export function hostMatches(m: LabMachine, hostname: string): boolean {
  if (m.host === undefined) return true;
  const a = m.host.toLowerCase();
  const b = hostname.toLowerCase();
  return a === b || a.split('.')[0] === b.split('.')[0];
}
