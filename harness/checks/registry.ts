/** Every check nicmatrix knows, in the order the matrix shows its columns. */
import type { Definitions } from '../../matrix/definitions.js';
import type { Check, Family } from './types.js';
import { txCsumChecks, txCsumFamily } from './tx-csum/index.js';
import { rxCsumChecks, rxCsumFamily } from './rx-csum/index.js';
import { fragChecks, fragFamily } from './frag/index.js';
import { zcChecks, zcFamily } from './zc/index.js';
import { txFrameChecks, txFrameFamily } from './tx-frame/index.js';
import { tunnelCsumChecks, tunnelCsumFamily } from './tunnel-csum/index.js';
import { tsoChecks, tsoFamily } from './tso/index.js';
import { usoChecks, usoFamily } from './uso/index.js';
import { gsoChecks, gsoFamily } from './gso/index.js';
import { sctpCsumChecks, sctpCsumFamily } from './sctp-csum/index.js';

export function allChecks(): Check[] {
  return [
    ...txCsumChecks,
    ...rxCsumChecks,
    ...fragChecks,
    ...zcChecks,
    ...txFrameChecks,
    ...tunnelCsumChecks,
    ...tsoChecks,
    ...gsoChecks,
    ...usoChecks,
    ...sctpCsumChecks,
  ];
}

/** Every family, with what it means to a reader. */
export function allFamilies(): Family[] {
  return [
    txCsumFamily,
    rxCsumFamily,
    tsoFamily,
    gsoFamily,
    usoFamily,
    tunnelCsumFamily,
    sctpCsumFamily,
    fragFamily,
    zcFamily,
    txFrameFamily,
  ];
}

/** The checks' and families' own words, as plain data for the reports (which never import the harness). */
export function checkDefinitions(): Definitions {
  return {
    checks: allChecks().map(({ id, family, title, definition, proves }) => ({ id, family, title, definition, proves })),
    families: allFamilies().map(({ name, title, definition }) => ({ name, title, definition })),
  };
}
