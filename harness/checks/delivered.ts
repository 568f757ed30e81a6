/** What a DUT's socket received, as the receive, transmit and fragment checks judge it (pure types). */
import type { IpFamily } from '../codec/index.js';

/** A datagram the DUT's socket received. */
export interface DeliveredDatagram {
  family: IpFamily;
  payload: Buffer;
  from: string;
  port: number;
}
