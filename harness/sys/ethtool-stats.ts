/**
 * A driver's own statistics (`ethtool -S`) through SIOCETHTOOL: three ioctls
 * instead of a process, which costs a TCG guest ~0.1 s per reading.
 */
import { NicmatrixError } from '../codec/errors.js';
import { AF_INET, SOCK_CLOEXEC, SOCK_DGRAM } from './consts.js';
import { check, syscallError } from './errno.js';
import { lastErrno, libc } from './libc.js';
import { NativeBuffer } from './memory.js';

const SIOCETHTOOL = 0x8946;
const ETHTOOL_GSTRINGS = 0x1b;
const ETHTOOL_GSTATS = 0x1d;
const ETHTOOL_GSSET_INFO = 0x37;
const ETH_SS_STATS = 1;
const ETH_GSTRING_LEN = 32;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const EOPNOTSUPP = 95;

/** Names from an ETHTOOL_GSTRINGS answer: `n` NUL-padded 32-byte strings from `offset` (pure). */
export function decodeGstrings(b: Buffer, offset: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const s = b.subarray(offset + i * ETH_GSTRING_LEN, offset + (i + 1) * ETH_GSTRING_LEN);
    const end = s.indexOf(0);
    return s.toString('latin1', 0, end < 0 ? s.length : end).trim();
  });
}

function call(fd: number, ifname: string, cmd: NativeBuffer, what: string): boolean {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(ifname, 0, IFNAMSIZ - 1, 'latin1');
  ifr.writeBigUInt64LE(cmd.addr, IFNAMSIZ);
  if (libc().ioctlInt(fd, SIOCETHTOOL, ifr) >= 0) return true;
  const errno = lastErrno();
  if (errno === EOPNOTSUPP) return false;
  throw syscallError(`ioctl(SIOCETHTOOL, ${what})`, errno, ifname);
}

/** `ethtool -S IF` as counters; a driver without statistics (lo) gives none, not an error. */
export function driverStats(ifname: string): Record<string, number> {
  if (ifname.length >= IFNAMSIZ)
    throw new NicmatrixError('AGENT', `ethtool.stats: expected an interface name, found ${JSON.stringify(ifname)}`);
  const fd = check(libc().socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), 'socket(AF_INET, SOCK_DGRAM)', 'the ethtool ioctl');
  const bufs: NativeBuffer[] = [];
  const alloc = (size: number) => {
    const b = new NativeBuffer(size);
    bufs.push(b);
    return b;
  };
  try {
    const info = alloc(20);
    info.bytes.writeUInt32LE(ETHTOOL_GSSET_INFO, 0);
    info.bytes.writeBigUInt64LE(1n << BigInt(ETH_SS_STATS), 8);
    if (!call(fd, ifname, info, 'ETHTOOL_GSSET_INFO') || info.bytes.readBigUInt64LE(8) === 0n) return {};
    const n = info.bytes.readUInt32LE(16);
    if (n === 0) return {};
    const strings = alloc(12 + n * ETH_GSTRING_LEN);
    strings.bytes.writeUInt32LE(ETHTOOL_GSTRINGS, 0);
    strings.bytes.writeUInt32LE(ETH_SS_STATS, 4);
    strings.bytes.writeUInt32LE(n, 8);
    const stats = alloc(8 + n * 8);
    stats.bytes.writeUInt32LE(ETHTOOL_GSTATS, 0);
    stats.bytes.writeUInt32LE(n, 4);
    if (!call(fd, ifname, strings, 'ETHTOOL_GSTRINGS') || !call(fd, ifname, stats, 'ETHTOOL_GSTATS')) return {};
    // The driver may report fewer than it announced when its queue count changed in between.
    const got = Math.min(n, strings.bytes.readUInt32LE(8), stats.bytes.readUInt32LE(4));
    const names = decodeGstrings(strings.bytes, 12, got);
    return Object.fromEntries(names.map((name, i) => [name, Number(stats.bytes.readBigUInt64LE(8 + i * 8))]));
  } finally {
    libc().close(fd);
    for (const b of bufs) b.free();
  }
}
