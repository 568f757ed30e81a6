/** SCTP in a frame: build one, and judge its CRC32c the way a receiver would (pure). */
import { wrapL4, type IpFrameSpec } from './build.js';
import { parseFrame, type ParsedFrame } from './frame.js';
import { buildSctpPacket, IPPROTO_SCTP, parseSctp, sctpChecksum, type SctpInfo, type SctpPacketSpec } from './sctp.js';

export type SctpFrameSpec = Omit<IpFrameSpec, 'payload' | 'checksum'> & SctpPacketSpec;

/** Ethernet / IP / SCTP common header and chunks. */
export function buildSctpFrame(s: SctpFrameSpec): Buffer {
  return wrapL4(s, IPPROTO_SCTP, buildSctpPacket(s));
}

export interface SctpVerdict {
  state: 'good' | 'bad' | 'unchecked';
  /** The CRC32c a correct sender writes, and what the field holds (both as little-endian numbers); -1 when unknown. */
  expected: number;
  found: number;
  reason?: string;
  parsed: ParsedFrame;
  sctp?: SctpInfo;
  /** Frame offset of the common header. */
  offset?: number;
}

/** Checks the CRC32c of an SCTP frame over the IP payload; never throws. */
export function verifySctpFrame(frame: Uint8Array): SctpVerdict {
  const parsed = parseFrame(frame);
  const unchecked = (reason: string): SctpVerdict => ({ state: 'unchecked', expected: -1, found: -1, reason, parsed });
  const { ip, l4 } = parsed;
  if (!ip) return unchecked(parsed.error ?? 'not an IP frame');
  if (ip.proto !== IPPROTO_SCTP || !l4) return unchecked(`not SCTP (protocol ${ip.proto})`);
  if (ip.fragment) return unchecked(`IPv${ip.family} fragment: reassemble first`);
  const end = ip.offset + ip.totalLen;
  if (end > frame.length) return unchecked(`truncated: the IP packet ends at ${end}, ${frame.length} bytes captured`);
  const s = parseSctp(frame, l4.offset, end);
  if (!s.sctp) return unchecked(s.error ?? 'no SCTP header');
  const expected = sctpChecksum(frame, l4.offset, end);
  const found = s.sctp.checksum;
  const base = { expected, found, parsed, sctp: s.sctp, offset: l4.offset };
  if (found === expected) return { state: 'good', ...base, reason: s.error };
  return {
    state: 'bad',
    ...base,
    reason: `CRC32c field holds 0x${found.toString(16).padStart(8, '0')}, expected 0x${expected.toString(16).padStart(8, '0')}`,
  };
}
