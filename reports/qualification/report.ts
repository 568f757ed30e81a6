/**
 * The qualification report as data (`nicmatrix.qualification/1`): the level
 * and every requirement's verdict with why, the device identity, and the run
 * record it was judged from with that file's SHA-256. Pure: the caller reads
 * files and hashes; this only assembles.
 */
import type { Profile, Requirement } from '../../matrix/profile.js';
import type { CheckLevel, LevelJudgement, Qualification, RequirementJudgement } from '../../matrix/qualify.js';
import type { RunRecord, TargetKind, TargetRecord } from '../../matrix/record.js';

export const QUALIFICATION_SCHEMA = 'nicmatrix.qualification/1';

/** Who the device is: what the run record says about the target and the host it ran on. */
export interface DeviceIdentityReport {
  spec: string;
  kind: TargetKind;
  description: string;
  model?: string;
  pciId?: string;
  driver: string;
  driverVersion: string;
  firmware: string;
  bus: string;
  kernel: string;
  dimensions: Record<string, string>;
  host: { hostname: string; kernel: string; arch: string; os: string };
}

export interface QualificationReport {
  schema: typeof QUALIFICATION_SCHEMA;
  generatedAt: string;
  tool: { name: 'nicmatrix'; version: string };
  /** One line: device, profile, verdict and why. */
  headline: string;
  profile: { name: string; title: string; description: string; source: string; chain: string[]; requirements: Requirement[] };
  level: LevelJudgement & { title: string };
  device: DeviceIdentityReport;
  requirements: RequirementJudgement[];
  /** Support level of every check of the target: the same words the matrix shows for this device. */
  levels: CheckLevel[];
  /** The run record judged, referenced by its file and the SHA-256 of that file's bytes (not embedded). */
  run: {
    id: string;
    file: string;
    sha256: string;
    startedAt: string;
    finishedAt: string;
    seed: number;
    argv: string[];
    toolVersion: string;
    /** The target of the record that was judged, and how many the record holds. */
    target: string;
    targets: number;
  };
}

export interface ReportParts {
  profile: Profile;
  qualification: Qualification;
  record: RunRecord;
  target: TargetRecord;
  /** Path of the record file as the report should name it. */
  recordFile: string;
  recordSha256: string;
  generatedAt: string;
  toolVersion: string;
}

export function deviceIdentity(record: RunRecord, t: TargetRecord): DeviceIdentityReport {
  return {
    spec: t.spec,
    kind: t.kind,
    description: t.device.description || t.spec,
    model: t.device.model,
    pciId: t.device.pciId,
    driver: t.driver.name,
    driverVersion: t.driver.version,
    firmware: t.driver.firmware,
    bus: t.driver.bus,
    kernel: t.kernel,
    dimensions: t.dimensions,
    host: { hostname: record.host.hostname, kernel: record.host.kernel, arch: record.host.arch, os: record.host.os },
  };
}

/** "Intel 82540EM (QEMU e1000), driver e1000 6.1.0, kernel 6.1.0" — the device as a person names it. */
export function deviceLabel(d: DeviceIdentityReport): string {
  const driver = [d.driver, d.driverVersion].filter(Boolean).join(' ');
  const parts = [
    `driver ${driver || 'unknown'}`,
    d.firmware ? `firmware ${d.firmware}` : '',
    d.pciId ? `PCI ${d.pciId}` : '',
    `kernel ${d.kernel || 'unknown'}`,
  ].filter(Boolean);
  return `${d.description} [${d.spec}] (${parts.join(', ')})`;
}

export function headline(profileName: string, level: LevelJudgement, d: DeviceIdentityReport): string {
  return `${deviceLabel(d)}: ${profileName} ${level.met ? 'MET' : 'NOT MET'} — ${level.why}`;
}

export function qualificationReport(p: ReportParts): QualificationReport {
  const device = deviceIdentity(p.record, p.target);
  const { profile, record } = p;
  return {
    schema: QUALIFICATION_SCHEMA,
    generatedAt: p.generatedAt,
    tool: { name: 'nicmatrix', version: p.toolVersion },
    headline: headline(profile.name, p.qualification.level, device),
    profile: {
      name: profile.name,
      title: profile.title,
      description: profile.description,
      source: profile.source,
      chain: profile.chain,
      requirements: profile.requirements,
    },
    level: { ...p.qualification.level, title: profile.title },
    device,
    requirements: p.qualification.requirements,
    levels: p.qualification.levels,
    run: {
      id: record.id,
      file: p.recordFile,
      sha256: p.recordSha256,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      seed: record.invocation.seed,
      argv: record.invocation.argv,
      toolVersion: record.tool.version,
      target: p.target.spec,
      targets: record.targets.length,
    },
  };
}
