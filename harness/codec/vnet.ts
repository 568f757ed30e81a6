/**
 * The virtio_net_hdr a PACKET_VNET_HDR socket sends a frame with: in the core
 * because the agent's RPC carries it and the socket layer encodes it. Pure types.
 */

/** virtio_net_hdr fields for a PACKET_VNET_HDR send. */
export interface VnetHeader {
  /** VIRTIO_NET_HDR_F_NEEDS_CSUM = 1. */
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}
