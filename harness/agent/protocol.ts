/**
 * The agent's RPC: newline-delimited JSON over a byte stream (stdio for a
 * netns agent, a virtio-serial port for a guest agent). Binary data travels
 * as base64. Pure types; no I/O.
 */
import type { DriverInfo, FeatureSnapshot } from '../../matrix/record.js';
import type { VnetHeader } from '../codec/vnet.js';

export interface Request {
  id: number;
  method: string;
  params: unknown;
  /** The scope the call belongs to (one check variant): `agent.cancel` stops a scope's calls and closes what they opened. */
  scope?: string;
}

export type Response =
  { id: number; result: unknown } | { id: number; error: { code: string; message: string; details?: Record<string, unknown> } };

/** First line an agent prints once it can take requests. */
export interface Hello {
  hello: 'nicmatrix-agent';
  pid: number;
  kernel: string;
  node: string;
}

export interface IfInfo {
  ifname: string;
  ifindex: number;
  mac: string;
  mtu: number;
  operstate: string;
  /** Addresses as `ip -json addr` reports them (local/prefixlen). */
  addresses: { family: 4 | 6; local: string; prefixlen: number }[];
}

/** A frame seen by an AF_PACKET capture, with what PACKET_AUXDATA said of it. */
export interface CapturedFrame {
  /** Frame bytes from the Ethernet header on (base64). */
  data: string;
  /** Original length on the wire (may exceed `data` when snapped). */
  len: number;
  /** tp_status bits from PACKET_AUXDATA (TP_STATUS_CSUMNOTREADY = 8, TP_STATUS_CSUM_VALID = 128). */
  status: number;
  /** PACKET_HOST, PACKET_OUTGOING... (sll_pkttype). */
  pkttype: number;
  /** VLAN TCI the device stripped (tp_vlan_tci), with tp_vlan_tpid; 0 if none. */
  vlanTci: number;
  vlanTpid: number;
  /** For a CHECKSUM_PARTIAL frame (status & CSUMNOTREADY): where the checksum starts and goes, from PACKET_VNET_HDR. */
  csumStart?: number;
  csumOffset?: number;
  /** Capture time, ns since the capture started. */
  tsNs: number;
}

/** The agent's base actions: name → params and result. Action modules add theirs by augmenting this map (`declare module`). */
export interface ActionMap {
  'agent.ping': { params: Record<string, never>; result: { pid: number; kernel: string } };
  /** Aborts the scope's in-flight actions and closes the resources its calls opened (answered once they ended, or after a bound). */
  'agent.cancel': { params: { scope: string }; result: { aborted: number; stillRunning: number; closedResources: number } };
  /** What the agent is doing: in-flight calls (per scope) and open resources. */
  'agent.status': {
    params: Record<string, never>;
    result: { inflight: number; resources: string[]; inflightByScope: Record<string, number> };
  };
  'link.info': { params: { ifname: string }; result: IfInfo };
  /** Sets the interface down and up again (recovering a device that stopped passing traffic). */
  'link.reup': { params: { ifname: string }; result: Record<string, never> };
  /** Waits until the interface is up (operstate UP or UNKNOWN), at most `timeoutMs`; says what it saw. */
  'link.wait': { params: { ifname: string; timeoutMs: number }; result: { up: boolean; operstate: string; waitedMs: number } };
  'ethtool.features': { params: { ifname: string }; result: FeatureSnapshot };
  /** Sets features (`ethtool -K`); returns the snapshot after, so the caller sees what took. */
  'ethtool.setFeatures': { params: { ifname: string; features: Record<string, boolean> }; result: FeatureSnapshot };
  'ethtool.driver': { params: { ifname: string }; result: DriverInfo };
  /** `ethtool -S`: driver counters, empty when the driver has none. */
  'ethtool.stats': { params: { ifname: string }; result: Record<string, number> };
  /** Absolute kernel MIB counters (`nstat --json -a -z -s`), flattened. */
  'nstat.read': { params: Record<string, never>; result: Record<string, number> };
  /** Starts an AF_PACKET capture with PACKET_AUXDATA on an interface. */
  'capture.start': { params: { ifname: string; snaplen?: number; vnetHdr?: boolean }; result: { id: string } };
  /**
   * Waits `settleMs` (or until `expect` frames arrived, at most `timeoutMs`), then drains and closes.
   * `dropsFrom`: frames the interface's counters named in `before` (driver counters, `link.`-prefixed link
   * counters) rose by since count as arrived for the wait: a device that counted them dropped will not deliver them.
   */
  'capture.stop': {
    params: {
      id: string;
      settleMs?: number;
      expect?: number;
      timeoutMs?: number;
      ignoreOutgoing?: boolean;
      dropsFrom?: { ifname: string; before: Record<string, number> };
      /** With `expect`: the wait also ends once no frame arrived for this long (some expected frames may rightly never come). */
      quietMs?: number;
    };
    result: { frames: CapturedFrame[]; dropped: number };
  };
  /**
   * Sends raw frames on an interface through AF_PACKET (with a virtio_net_hdr per frame if given), at most
   * `rateMbps` of wire time (preamble, FCS and gap included) when given.
   */
  'packet.send': {
    /** `refusals: 'count'`: a frame the kernel refuses with ENOBUFS is listed in `refused` instead of failing the call. */
    params: { ifname: string; frames: string[]; vnet?: VnetHeader[]; rateMbps?: number; refusals?: 'throw' | 'count' };
    result: { sent: number; refused?: number[] };
  };
  /** `ip -s -s link` counters (rx_dropped, rx_over_errors, tx_dropped…), and the link speed from `ethtool` when asked (null: none reported). */
  'link.stats': { params: { ifname: string; speed?: boolean }; result: { counters: Record<string, number>; speedMbps: number | null } };
  /** Sends UDP datagrams through an ordinary kernel socket. */
  'udp.send': {
    params: {
      family: 4 | 6;
      src?: string;
      dst: string;
      sport: number;
      dport: number;
      payloads: string[];
      /** IPv4 only: SO_NO_CHECK, the datagram goes out with checksum 0. */
      noChecksum?: boolean;
      /** IPv4 options (raw bytes, base64) set with IP_OPTIONS. */
      ipOptions?: string;
      /** IPv6 destination-options header (raw bytes, base64) set with IPV6_DSTOPTS. */
      ipv6DstOpts?: string;
      /** At most this many Mb/s of wire time (fragments' headers estimated for an MTU of 1500). */
      rateMbps?: number;
    };
    result: { sent: number };
  };
}

export type ActionName = keyof ActionMap;
export type ActionParams<A extends ActionName> = ActionMap[A]['params'];
export type ActionResult<A extends ActionName> = ActionMap[A]['result'];
