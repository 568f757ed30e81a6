/**
 * The `zc/*` family: zero-copy transmit. sendfile byte-exactness over sizes,
 * offsets and offload settings; MSG_ZEROCOPY completions and whether they
 * were honoured (its own column); the user mutating data mid-send.
 */
import type { About, Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
import { runSendfileMutate, runZerocopyMutate } from './mutate-checks.js';
import { runSendfile } from './sendfile-check.js';
import { runHonoured, runMsgZerocopy } from './zerocopy-check.js';

const SG = 'scatter-gather';
const TSO = 'tcp-segmentation-offload';
const GSO = 'generic-segmentation-offload';
const CSUM = 'tx-checksumming';

/**
 * sendfile paths: the device segments (TSO), the stack segments in software
 * (GSO), the stack sends linear segments (no GSO), SG off (the kernel copies
 * the pages into linear skbs), everything off (software checksums too).
 */
const OFFLOAD_ON: Variant = { name: 'offload-on', features: { [CSUM]: true, [SG]: true, [TSO]: true, [GSO]: true } };
const TSO_OFF: Variant = { name: 'tso-off', features: { [CSUM]: true, [SG]: true, [TSO]: false, [GSO]: true } };
const OFFLOAD_OFF: Variant = { name: 'offload-off', features: { [CSUM]: false, [SG]: false, [TSO]: false, [GSO]: false } };

export const SENDFILE_VARIANTS: readonly Variant[] = [
  OFFLOAD_ON,
  TSO_OFF,
  { name: 'gso-off', features: { [CSUM]: true, [SG]: true, [TSO]: false, [GSO]: false } },
  { name: 'sg-off', features: { [CSUM]: true, [SG]: false, [TSO]: false } },
  OFFLOAD_OFF,
];

export const MUTATE_VARIANTS: readonly Variant[] = [OFFLOAD_ON, TSO_OFF, OFFLOAD_OFF];

const SG_ON: Variant = { name: 'sg-on', features: { [CSUM]: true, [SG]: true } };

/** MSG_ZEROCOPY needs SG (and checksum offload, which SG depends on); without it the kernel copies. */
export const ZEROCOPY_VARIANTS: readonly Variant[] = [SG_ON, { name: 'sg-off', features: { [SG]: false } }];

export const zcFamily: Family = {
  name: 'zc',
  title: 'Zero-copy transmit',
  definition:
    'sendfile() and MSG_ZEROCOPY over TCP with scatter-gather, TSO and GSO on and off, and the user rewriting data mid-send; ethtool features scatter-gather, tcp-segmentation-offload, generic-segmentation-offload.',
};

const ABOUT = {
  sendfile: {
    definition: 'sendfile() to a TCP socket of files from 0 bytes to 64 MiB, at offsets, in partial ranges and from a sparse file.',
    proves:
      "The peer's socket received exactly the file's bytes in every case, TCP lost fewer segments than the bound, and the captured case's frames were sound.",
  },
  'msg-zerocopy': {
    definition: 'Sends TCP (IPv4, IPv6) and UDP data with MSG_ZEROCOPY and reads the completion notifications.',
    proves:
      'Every send completed exactly once, the peer received every byte and datagram exactly, and TCP lost fewer segments than the bound.',
  },
  'msg-zerocopy-honoured': {
    definition: 'Sends with MSG_ZEROCOPY and scatter-gather on, and counts completions flagged SO_EE_CODE_ZEROCOPY_COPIED.',
    proves:
      "The bytes were delivered and the kernel transmitted from the user's pages instead of copying them (skip where the kernel copies by policy).",
  },
  'sendfile-mutate': {
    definition: "pwrite()s generation-stamped blocks into a file's page cache while sendfile() is sending it.",
    proves: 'Every byte received is a version the user wrote, every checksum on the wire was valid and nothing stalled.',
  },
  'msg-zerocopy-mutate': {
    definition: 'Writes generation-stamped blocks into a MSG_ZEROCOPY buffer before and after its completion.',
    proves: "Only the user's own generations reached the wire, none written after completion, with valid checksums.",
  },
} as const satisfies Record<string, About>;

function zcCheck(
  id: keyof typeof ABOUT,
  title: string,
  variants: readonly Variant[],
  run: (ctx: CheckContext) => Promise<CheckOutcome>,
): Check {
  return { id: `zc/${id}`, family: 'zc', title, ...ABOUT[id], variants: () => [...variants], run };
}

export const zcChecks: readonly Check[] = [
  zcCheck('sendfile', 'sendfile() to TCP arrives byte-exact: sizes, offsets, ranges, sparse files', SENDFILE_VARIANTS, runSendfile),
  zcCheck('msg-zerocopy', 'MSG_ZEROCOPY: every send completes exactly once, bytes exact', ZEROCOPY_VARIANTS, runMsgZerocopy),
  zcCheck('msg-zerocopy-honoured', 'MSG_ZEROCOPY is honoured (sent from user pages, not copied)', [SG_ON], runHonoured),
  zcCheck('sendfile-mutate', "pwrite() during sendfile: only the user's own generations on the wire", MUTATE_VARIANTS, runSendfileMutate),
  zcCheck(
    'msg-zerocopy-mutate',
    'writes during MSG_ZEROCOPY: own generations only, none after completion',
    ZEROCOPY_VARIANTS,
    runZerocopyMutate,
  ),
];
