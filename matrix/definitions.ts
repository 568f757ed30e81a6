/**
 * What each check and family means, as plain data for the reports: the
 * sentences are written beside the checks (`harness/checks/<family>/index.ts`)
 * and handed to the reporters by the CLI, so reports never import the
 * harness. Unknown checks and families get a fallback that says so. Pure.
 */
import { claimFeatures } from './claims.js';
import { compareFamilies, familyOf } from './identity.js';

export interface CheckDefinition {
  id: string;
  family: string;
  /** One line for people. */
  title: string;
  /** What is sent or done, in one sentence. */
  definition: string;
  /** What a pass proves, in one sentence. */
  proves: string;
}

export interface FamilyDefinition {
  name: string;
  /** A reader's name for the family, e.g. "TX checksum offload". */
  title: string;
  /** What the family tests and which `ethtool -k` features it concerns, in one sentence. */
  definition: string;
}

export interface Definitions {
  checks: CheckDefinition[];
  families: FamilyDefinition[];
}

/** Lookups with fallbacks for checks and families this version does not describe. */
export interface DefinitionIndex {
  check(id: string): CheckDefinition & { known: boolean; features: string[] };
  family(name: string): FamilyDefinition & { known: boolean };
}

export function definitionIndex(d: Definitions | undefined): DefinitionIndex {
  const checks = new Map((d?.checks ?? []).map((c) => [c.id, c]));
  const families = new Map((d?.families ?? []).map((f) => [f.name, f]));
  return {
    check(id) {
      const c = checks.get(id);
      const features = claimFeatures(id);
      if (c) return { ...c, known: true, features };
      return {
        id,
        family: familyOf(id),
        title: id,
        definition: 'No definition was published with this build for this check.',
        proves: 'See the check’s evidence for what was judged.',
        known: false,
        features,
      };
    },
    family(name) {
      const f = families.get(name);
      if (f) return { ...f, known: true };
      return {
        name,
        title: name,
        definition: `Checks of the ${name} family (no description was published with this build).`,
        known: false,
      };
    },
  };
}

/** Families of `checks` in reading order. */
export function familiesOf(checks: readonly string[]): string[] {
  return [...new Set(checks.map(familyOf))].sort(compareFamilies);
}
