import fs from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from '../../matrix/record.js';
import { NicmatrixError } from '../codec/errors.js';

/** Writes the record atomically (temp file + rename): a crash never leaves half a record. */
export async function writeRecord(file: string, record: RunRecord): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw new NicmatrixError('STORE', `could not write the run record ${file}`, { cause: e });
  }
}

/** Directory for a record's pcaps: `run.json` → `run.pcap/`. */
export function pcapDirFor(recordFile: string): string {
  return recordFile.replace(/\.json$/, '') + '.pcap';
}

/** A file-name-safe rendering of a target spec, check ID or variant. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}
