/**
 * A check: a stable ID (the matrix column), the variants it runs in, and a
 * run function that drives the link and judges what the peer saw.
 */
import type { Dut, LinkInfo } from '../../drivers/types.js';
import type { Evidence, FeatureSnapshot, Status } from '../../matrix/record.js';
import type { CapturedFrame } from '../agent/protocol.js';

/** One configuration of a check, e.g. TX checksum offload on or off. */
export interface Variant {
  /** Stable name, e.g. `offload-on`. */
  name: string;
  /**
   * DUT features to set before the variant runs (`ethtool -K` names). When
   * one cannot take the wanted value (it is `[fixed]`), the variant is
   * `unsupported` unless `optional` lists it.
   */
  features?: Record<string, boolean>;
  /** Features of `features` that may stay as they are without making the variant unsupported. */
  optional?: string[];
  /** Free parameters for the check's run function. */
  params?: Record<string, unknown>;
}

export interface CheckContext {
  readonly link: LinkInfo;
  readonly dut: Dut;
  readonly variant: Variant;
  /** Feature snapshot of the DUT after the variant's features were applied. */
  readonly features: FeatureSnapshot;
  /** Seed for every random choice of this check × variant; logged in the evidence. */
  readonly seed: number;
  readonly signal: AbortSignal;
  /** A line of progress, shown on a terminal and in CI logs. */
  log(line: string): void;
  /** Writes frames as a pcap beside the run record; returns the path to put in evidence. */
  writePcap(name: string, frames: CapturedFrame[]): Promise<string | undefined>;
}

/** What a check found; the runner adds duration, counters and features. */
export interface CheckOutcome {
  status: Status;
  message: string;
  evidence: Evidence;
}

/** What a check means to a reader, one sentence each: shown on the site, in reports and by `nicmatrix checks`. */
export interface About {
  /** What is sent or done. */
  readonly definition: string;
  /** What a pass proves. */
  readonly proves: string;
}

/** A family of checks (the part of the ID before the slash) for people. */
export interface Family {
  readonly name: string;
  /** A reader's name, e.g. "TX checksum offload". */
  readonly title: string;
  /** What the family tests and which `ethtool -k` features it concerns, in one sentence. */
  readonly definition: string;
}

export interface Check extends About {
  /** Stable ID: never rename once published. */
  readonly id: string;
  /** Family, the part before the slash (`tx-csum`). */
  readonly family: string;
  /** One line for people. */
  readonly title: string;
  /**
   * The DUT sends frames the check built itself (AF_PACKET), and its judge compares every byte of them: the
   * runner's judgement of the DUT stack's headers (TTL, DSCP, MACs) does not apply to them.
   */
  readonly craftsDutFrames?: boolean;
  /** The variants to run on this link, given the DUT's features when it came up. */
  variants(link: LinkInfo, features: FeatureSnapshot): Variant[];
  run(ctx: CheckContext): Promise<CheckOutcome>;
}
