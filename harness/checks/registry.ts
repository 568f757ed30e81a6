/** Every check nicmatrix knows, in the order the matrix shows its columns. */
import type { Check } from './types.js';
import { txCsumChecks } from './tx-csum/index.js';
import { rxCsumChecks } from './rx-csum/index.js';
import { fragChecks } from './frag/index.js';
import { zcChecks } from './zc/index.js';
import { txFrameChecks } from './tx-frame/index.js';
import { tunnelCsumChecks } from './tunnel-csum/index.js';
import { tsoChecks } from './tso/index.js';
import { usoChecks } from './uso/index.js';
import { sctpCsumChecks } from './sctp-csum/index.js';

export function allChecks(): Check[] {
  return [
    ...txCsumChecks,
    ...rxCsumChecks,
    ...fragChecks,
    ...zcChecks,
    ...txFrameChecks,
    ...tunnelCsumChecks,
    ...tsoChecks,
    ...usoChecks,
    ...sctpCsumChecks,
  ];
}
