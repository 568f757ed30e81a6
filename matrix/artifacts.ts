/**
 * Files a run record refers to (today: the pcaps in result evidence), read
 * from beside the record so the store keeps them when the CI artifact or lab
 * directory is gone. Only paths inside the record's directory are read: a
 * submitted record must not smuggle `/etc/shadow` into the published site.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve, sep } from 'node:path';
import type { RunRecord } from './record.js';

/** Largest artifact the store keeps; a capture of offending frames is far smaller. */
export const MAX_ARTIFACT_BYTES = 64 * 2 ** 20;

export interface ArtifactSet {
  /** Record-relative path → bytes. */
  found: Map<string, Uint8Array>;
  /** Referenced but not stored, each with why. */
  missing: { path: string; reason: string }[];
}

/** Every artifact path the record references, deduplicated, in record order. */
export function artifactPaths(record: RunRecord): string[] {
  const paths = new Set<string>();
  for (const t of record.targets) {
    for (const r of t.results) if (typeof r.evidence.pcap === 'string') paths.add(r.evidence.pcap);
  }
  return [...paths];
}

/** Why a referenced path is not safe to read, or undefined when it is. */
export function unsafeArtifactPath(path: string): string | undefined {
  if (isAbsolute(path)) return 'absolute path (must be relative to the record)';
  const n = normalize(path);
  if (n === '..' || n.startsWith(`..${sep}`)) return 'leaves the record directory';
  return undefined;
}

/** Reads the artifacts of a record that was read from `recordFile`. */
export function readArtifacts(record: RunRecord, recordFile: string): ArtifactSet {
  const dir = dirname(resolve(recordFile));
  const found = new Map<string, Uint8Array>();
  const missing: { path: string; reason: string }[] = [];
  for (const path of artifactPaths(record)) {
    const unsafe = unsafeArtifactPath(path);
    if (unsafe) {
      missing.push({ path, reason: unsafe });
      continue;
    }
    const full = resolve(dir, path);
    try {
      const size = statSync(full).size;
      if (size > MAX_ARTIFACT_BYTES) missing.push({ path, reason: `${size} bytes, more than the ${MAX_ARTIFACT_BYTES} kept` });
      else found.set(path, readFileSync(full));
    } catch (e) {
      missing.push({ path, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
    }
  }
  return { found, missing };
}
