/** `nicmatrix ingest FILE…`: validate run records and add them to the matrix store. */
import { MatrixStore, resolveStorePath } from '../../../matrix/store.js';
import { type ErrorCode, isNicmatrixError, NicmatrixError } from '../../codec/errors.js';
import { defineCommand } from './command.js';
import { STORE_HELP } from './shared.js';

/** A record refused for what it is (or for what the store could not do with it); the next file still gets its turn. */
const REFUSALS = new Set<ErrorCode>(['RECORD_INVALID', 'RECORD_VERSION', 'STORE']);

export const command = defineCommand({
  usage: [
    'usage: nicmatrix ingest FILE… [--store PATH]',
    '',
    'Validates each run record against the published schema (older schema versions are migrated,',
    'newer ones refused) and stores it with the pcaps it references. Each record is one transaction:',
    'a refused record changes nothing; the same record again is a no-op.',
    '',
    STORE_HELP,
    '',
    'Exit status: 0 when every record was stored (or already was), 2 when any was refused.',
  ].join('\n'),
  options: { store: { type: 'string' } },
  positionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length === 0) throw new NicmatrixError('USAGE', 'ingest: expected one or more run record files');
    const path = resolveStorePath(values.store);
    const store = MatrixStore.open(path);
    const tally = { added: 0, unchanged: 0, refused: 0 };
    try {
      for (const file of positionals) {
        try {
          const r = store.ingestFile(file);
          tally[r.status]++;
          io.out(`${r.status} ${r.id} from ${file}${r.artifacts ? ` with ${r.artifacts} pcap(s)` : ''}`);
          for (const m of r.missingArtifacts) io.err(`ingest: ${file}: pcap ${m.path} not stored: ${m.reason}`);
        } catch (e) {
          if (!isNicmatrixError(e) || !REFUSALS.has(e.code)) throw e;
          tally.refused++;
          io.err(`ingest: refused [${e.code}]: ${e.message}`);
        }
      }
    } finally {
      store.close();
    }
    io.err(`ingest: ${tally.added} added, ${tally.unchanged} already stored, ${tally.refused} refused; store ${path}`);
    return tally.refused > 0 ? 2 : 0;
  },
});
