/** Captured frames as the checks judge them (pure): decoded once, with PACKET_AUXDATA facts. */
import type { CapturedFrame } from '../agent/protocol.js';
import { parseFrame, type ParsedFrame } from '../codec/index.js';

/** tp_status bits (linux/if_packet.h). */
export const TP_STATUS_CSUMNOTREADY = 1 << 3;
export const TP_STATUS_VLAN_VALID = 1 << 4;
export const TP_STATUS_CSUM_VALID = 1 << 7;

export interface WireFrame {
  /** Position in the capture, for evidence. */
  index: number;
  data: Buffer;
  parsed: ParsedFrame;
  /** Arrived CHECKSUM_PARTIAL: the field holds the pseudo-header seed, nobody summed the data. */
  partial: boolean;
  /** The receiving side already validated the checksum (TP_STATUS_CSUM_VALID). */
  csumValid: boolean;
  csumStart?: number;
  csumOffset?: number;
  /** The device stripped a VLAN tag into metadata (tag not in `data`). */
  vlanTci?: number;
  raw: CapturedFrame;
}

export function decodeCapture(frames: readonly CapturedFrame[]): WireFrame[] {
  return frames.map((f, index) => {
    const data = Buffer.from(f.data, 'base64');
    return {
      index,
      data,
      parsed: parseFrame(data),
      partial: (f.status & TP_STATUS_CSUMNOTREADY) !== 0,
      csumValid: (f.status & TP_STATUS_CSUM_VALID) !== 0,
      csumStart: f.csumStart,
      csumOffset: f.csumOffset,
      vlanTci: f.status & TP_STATUS_VLAN_VALID ? f.vlanTci : undefined,
      raw: f,
    };
  });
}

/** Matches frames of one IP flow: addresses, protocol and (when given) ports. */
export function flowFilter(flow: { src: string; dst: string; proto: number; sport?: number; dport?: number }): (f: WireFrame) => boolean {
  return (f) => {
    const { ip, l4 } = f.parsed;
    if (!ip || ip.src !== flow.src || ip.dst !== flow.dst || ip.proto !== flow.proto) return false;
    if (flow.sport !== undefined && l4?.sport !== flow.sport) return false;
    if (flow.dport !== undefined && l4?.dport !== flow.dport) return false;
    return true;
  };
}

/** Bytes of a frame kept in a record's evidence; the pcap has them all. */
export const EVIDENCE_FRAME_BYTES = 256;

/** Hex of a frame for evidence, capped so a record stays small (the reason says when it was cut). */
export function frameHex(data: Buffer, max = EVIDENCE_FRAME_BYTES): string {
  return data.subarray(0, max).toString('hex');
}
