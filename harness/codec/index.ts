/** The packet codec in one import: addresses, headers, frames, fragments, checksum verdicts. */
export * from './addr.js';
export * from './ethernet.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './udp.js';
export * from './tcp.js';
export * from './frame.js';
export * from './build.js';
export * from './fragment.js';
export * from './verify.js';
export * from './crc32c.js';
export * from './sctp.js';
export * from './sctp-frame.js';
export * from './encap.js';
export * from './gso.js';
