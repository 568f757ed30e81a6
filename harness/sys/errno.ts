/**
 * Turns a failed libc call into NicmatrixError('SYSCALL') whose message names
 * the call, what it was done on, and the errno ("bind(ifindex 99) on AF_PACKET
 * socket: ENODEV (No such device)"). `details.errno` lets callers branch.
 */
import koffi from 'koffi';
import { NicmatrixError, isNicmatrixError } from '../codec/errors.js';
import { lastErrno, libc } from './libc.js';

let names: Map<number, string> | undefined;
const CANONICAL = new Set(['EAGAIN', 'EOPNOTSUPP', 'EDEADLK']);

/** Symbolic name of an errno value ("EINVAL"), or "errno N" when unknown. */
export function errnoName(errno: number): string {
  if (!names) {
    names = new Map();
    for (const [name, value] of Object.entries(koffi.os.errno)) {
      // Aliases share a value (EWOULDBLOCK, ENOTSUP, EDEADLOCK): keep the name Linux's own headers and strace use.
      if (!names.has(value) || CANONICAL.has(name)) names.set(value, name);
    }
  }
  return names.get(errno) ?? `errno ${errno}`;
}

/** The error for `call` failing with `errno`; `what` names the object ("AF_PACKET socket"). */
export function syscallError(call: string, errno: number, what?: string): NicmatrixError {
  const on = what ? ` on ${what}` : '';
  const text = `${errnoName(errno)} (${libc().strerror(errno)})`;
  return new NicmatrixError('SYSCALL', `${call}${on}: ${text}`, { details: { call, errno, errnoName: errnoName(errno) } });
}

/** Returns `ret` when it is >= 0, else throws the SYSCALL error with the current errno. */
export function check(ret: number, call: string, what?: string): number {
  if (ret < 0) throw syscallError(call, lastErrno(), what);
  return ret;
}

/** The errno name a SYSCALL error carries ("EAGAIN"), or undefined for any other error. */
export function syscallErrno(e: unknown): string | undefined {
  return isNicmatrixError(e, 'SYSCALL') ? (e.details.errnoName as string | undefined) : undefined;
}

/** errno values the harness tests for (x86_64 Linux). */
export const EINTR = 4;
export const EAGAIN = 11;
export const EINPROGRESS = 115;
export const ENOBUFS = 105;
export const EINVAL = 22;
export const EFAULT = 14;
export const ETIMEDOUT = 110;
