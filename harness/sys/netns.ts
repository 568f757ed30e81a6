/**
 * Runs synchronous code with the calling thread inside a named network
 * namespace (setns), then returns it to its own. Sockets keep the namespace
 * they were created in, so one process can hold sockets of several netns.
 */
import fs from 'node:fs';
import { NicmatrixError } from '../codec/errors.js';
import { CLONE_NEWNET } from './consts.js';
import { check } from './errno.js';
import { libc } from './libc.js';

/**
 * Calls `fn` inside netns `name` (/run/netns/NAME, as `ip netns add` makes
 * it). `fn` must be synchronous: an await would let other code run in the
 * wrong namespace.
 */
export function inNetns<T>(name: string, fn: () => T): T {
  const path = `/run/netns/${name}`;
  let target: number;
  try {
    target = fs.openSync(path, 'r');
  } catch (e) {
    throw new NicmatrixError('TARGET_SETUP', `inNetns: expected network namespace ${name} at ${path}, found none`, { cause: e });
  }
  const home = fs.openSync('/proc/thread-self/ns/net', 'r');
  try {
    check(libc().setns(target, CLONE_NEWNET), `setns(${path})`);
    try {
      const result = fn();
      if (result instanceof Promise)
        throw new NicmatrixError('INTERNAL', 'inNetns: expected a synchronous function, found one returning a Promise');
      return result;
    } finally {
      check(libc().setns(home, CLONE_NEWNET), 'setns(/proc/thread-self/ns/net)');
    }
  } finally {
    fs.closeSync(home);
    fs.closeSync(target);
  }
}
