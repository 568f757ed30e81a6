/**
 * A capture on one interface: an AF_PACKET socket with a big receive buffer,
 * drained in the background in short slices (the event loop keeps serving
 * RPCs), then stopped once the expected frames came or a settle time passed.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import * as C from './consts.js';
import { check, syscallErrno } from './errno.js';
import { libc } from './libc.js';
import { PacketSocket, type ReceivedFrame } from './packet.js';
import { pause } from './socket.js';
import { decodeTimespecNs, TIMESPEC_SIZE } from './structs.js';

export interface CaptureOptions {
  snaplen?: number;
  /** PACKET_VNET_HDR: CHECKSUM_PARTIAL frames come with csum_start/csum_offset. */
  vnetHdr?: boolean;
  /** SO_RCVBUFFORCE bytes; default 32 MiB (the kernel doubles it). */
  rcvbuf?: number;
  promisc?: boolean;
}

export interface StopOptions {
  /** Without `expect`: how long to wait for frames (default 100 ms). With it: extra wait after the count is reached (default 0). */
  settleMs?: number;
  /** Stop waiting as soon as this many (kept) frames arrived. */
  expect?: number;
  /** Longest wait for `expect` (default 2000 ms). */
  timeoutMs?: number;
  /** Which frames to keep (others are dropped at once); default all. */
  keep?: (f: ReceivedFrame) => boolean;
  /** Ends the waits early (the call was cancelled): what was captured so far is returned. */
  signal?: AbortSignal;
  /** Frames known not to come (a device counted them dropped): they count toward `expect`. */
  accountedElsewhere?: () => Promise<number>;
  /** With `expect`: the wait also ends once no frame arrived for this long. */
  quietMs?: number;
}

export interface CaptureResult {
  frames: ReceivedFrame[];
  /** Frames missing from `frames`: kernel drops for want of buffer (PACKET_STATISTICS tp_drops) plus `unrepresentable`. */
  dropped: number;
  /** Frames whose virtio_net_hdr the kernel could not fill (a GSO type it has no code for): recvmsg said EINVAL and consumed them. */
  unrepresentable: number;
  /** CLOCK_REALTIME ns when the capture started; frame tsNs minus this is the offset into the capture. */
  startNs: bigint;
}

/** Background drain period, and the longest slice one drain may take. */
const DRAIN_EVERY_MS = 20;
const SLICE_MS = 4;

/** CLOCK_REALTIME in ns, the clock SO_TIMESTAMPNS stamps frames with. */
export function realtimeNs(): bigint {
  const ts = Buffer.alloc(TIMESPEC_SIZE);
  check(libc().clock_gettime(C.CLOCK_REALTIME, ts), 'clock_gettime(CLOCK_REALTIME)');
  return decodeTimespecNs(ts);
}

export class Capture {
  private frames: ReceivedFrame[] = [];
  private timer: NodeJS.Timeout;
  private keep: (f: ReceivedFrame) => boolean = () => true;
  private unrepresentable = 0;
  /** An error of a background drain, thrown again by stop(). */
  private failure: unknown;

  private constructor(
    readonly socket: PacketSocket,
    readonly startNs: bigint,
  ) {
    this.timer = setInterval(() => this.drainSlice(), DRAIN_EVERY_MS);
    this.timer.unref();
  }

  static start(ifname: string, opts: CaptureOptions = {}): Capture {
    const startNs = realtimeNs();
    const sock = PacketSocket.open(ifname, {
      vnetHdr: opts.vnetHdr,
      snaplen: opts.snaplen,
      rcvbuf: opts.rcvbuf ?? 32 << 20,
      promisc: opts.promisc,
    });
    return new Capture(sock, startNs);
  }

  /** Frames kept so far (still growing until stop). */
  get count(): number {
    return this.frames.length;
  }

  /** Reads queued frames for at most SLICE_MS; true when the queue is empty. */
  private drainSlice(): boolean {
    if (this.socket.sock.closed || this.failure) return true;
    const until = performance.now() + SLICE_MS;
    for (;;) {
      let f: ReceivedFrame | null | undefined;
      try {
        f = this.socket.recv();
      } catch (e) {
        if (!this.socket.vnetHdr || syscallErrno(e) !== 'EINVAL') {
          // Runs from a timer too: keep the error for stop() rather than crash the agent.
          this.failure = e;
          return true;
        }
        this.unrepresentable++;
      }
      if (f === null) return true;
      if (f && this.keep(f)) this.frames.push(f);
      if (performance.now() >= until) return false;
    }
  }

  private async drainAll(): Promise<void> {
    while (!this.drainSlice()) await yieldLoop();
  }

  /** Waits as `opts` says, reads everything queued, closes the socket and returns the frames. */
  async stop(opts: StopOptions = {}): Promise<CaptureResult> {
    if (opts.keep) {
      this.keep = opts.keep;
      this.frames = this.frames.filter(opts.keep);
    }
    try {
      if (opts.expect === undefined) {
        await pause(opts.settleMs ?? 100, opts.signal);
      } else {
        const deadline = Date.now() + (opts.timeoutMs ?? 2000);
        await this.drainAll();
        const elsewhere = opts.accountedElsewhere ?? (() => Promise.resolve(0));
        let seen = this.frames.length;
        let grewAt = Date.now();
        const quiet = () => {
          if (this.frames.length > seen) [seen, grewAt] = [this.frames.length, Date.now()];
          return opts.quietMs !== undefined && Date.now() - grewAt >= opts.quietMs;
        };
        while (
          this.frames.length < opts.expect &&
          Date.now() < deadline &&
          !opts.signal?.aborted &&
          !quiet() &&
          this.frames.length + (await elsewhere()) < opts.expect
        ) {
          await this.socket.sock.wait(C.POLLIN, Math.min(200, deadline - Date.now()));
          await this.drainAll();
        }
        if (opts.settleMs) await pause(opts.settleMs, opts.signal);
      }
      await this.drainAll();
      if (this.failure) throw this.failure;
      const { drops } = this.socket.stats();
      return { frames: this.frames, dropped: drops + this.unrepresentable, unrepresentable: this.unrepresentable, startNs: this.startNs };
    } finally {
      this.close();
    }
  }

  /** Closes without collecting (agent exit, errors). */
  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }
}
