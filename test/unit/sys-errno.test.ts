/** SYSCALL errors: the message names the call, the object and the errno by name and text. */
import { describe, expect, it } from 'vitest';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { errnoName, syscallErrno, syscallError } from '../../harness/sys/errno.js';

describe('errno naming', () => {
  it('uses the Linux names for aliased values', () => {
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(95)).toBe('EOPNOTSUPP');
    expect(errnoName(35)).toBe('EDEADLK');
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(99_999)).toBe('errno 99999');
  });

  it('builds the stable message and details', () => {
    const e = syscallError('setsockopt(PACKET_VNET_HDR)', 22, 'AF_PACKET socket');
    expect(e).toBeInstanceOf(NicmatrixError);
    expect(e.code).toBe('SYSCALL');
    expect(e.message).toBe('setsockopt(PACKET_VNET_HDR) on AF_PACKET socket: EINVAL (Invalid argument)');
    expect(e.details).toEqual({ call: 'setsockopt(PACKET_VNET_HDR)', errno: 22, errnoName: 'EINVAL' });
    expect(syscallErrno(e)).toBe('EINVAL');
    expect(syscallErrno(new Error('x'))).toBeUndefined();
    expect(syscallError('poll()', 4).message).toBe('poll(): EINTR (Interrupted system call)');
  });
});
