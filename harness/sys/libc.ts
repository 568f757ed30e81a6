/**
 * The libc functions nicmatrix calls, bound through koffi. libc.so.6 is loaded
 * on first use, once. Pointer arguments take a Buffer (transient, for the call
 * only) or a native address (bigint) from NativeBuffer.
 */
import koffi from 'koffi';
import { describeError, NicmatrixError } from '../codec/errors.js';

/** A pointer argument: a Buffer for the duration of the call, a native address, or NULL. */
export type Ptr = Buffer | bigint | null;

type Async<F extends (...args: never[]) => unknown> = F & {
  async: (...args: [...Parameters<F>, (err: unknown, res: ReturnType<F>) => void]) => void;
};

/** Bound functions; each returns what the C function returns (check it, then errno). */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Ptr, len: number): number;
  connect(fd: number, addr: Ptr, len: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, addr: Ptr, lenp: Ptr, flags: number): number;
  setsockopt(fd: number, level: number, name: number, val: Ptr, len: number): number;
  getsockopt(fd: number, level: number, name: number, val: Ptr, lenp: Ptr): number;
  getsockname(fd: number, addr: Ptr, lenp: Ptr): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  poll: Async<(fds: Ptr, nfds: number, timeoutMs: number) => number>;
  recvmsg(fd: number, msg: Ptr, flags: number): number;
  sendmsg(fd: number, msg: Ptr, flags: number): number;
  send(fd: number, buf: Ptr, len: number, flags: number): number;
  recv(fd: number, buf: Ptr, len: number, flags: number): number;
  sendto(fd: number, buf: Ptr, len: number, flags: number, addr: Ptr, addrlen: number): number;
  sendfile: Async<(outFd: number, inFd: number, offset: Ptr, count: number) => number>;
  ioctlInt(fd: number, request: number, out: Buffer): number;
  if_nametoindex(name: string): number;
  setns(fd: number, nstype: number): number;
  clock_gettime(clock: number, ts: Buffer): number;
  strerror(errnum: number): string;
}

let bound: Libc | undefined;

/** The bound libc, loaded on the first call. */
export function libc(): Libc {
  if (!bound) {
    try {
      bound = bind();
    } catch (e) {
      throw new NicmatrixError(
        'PREREQUISITE',
        `could not bind libc.so.6 through koffi (expected glibc on Linux): ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }
  return bound;
}

/** errno as the last libc call on this thread left it (koffi keeps it per call, async calls included). */
export function lastErrno(): number {
  return koffi.errno();
}

function bind(): Libc {
  const lib = koffi.load('libc.so.6');
  const f = (decl: string) => lib.func(decl);
  const ioctl = f('int ioctl(int fd, unsigned long request, ...)');
  return {
    socket: f('int socket(int domain, int type, int protocol)'),
    bind: f('int bind(int fd, const void *addr, uint32_t len)'),
    connect: f('int connect(int fd, const void *addr, uint32_t len)'),
    listen: f('int listen(int fd, int backlog)'),
    accept4: f('int accept4(int fd, void *addr, void *lenp, int flags)'),
    setsockopt: f('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
    getsockopt: f('int getsockopt(int fd, int level, int name, void *val, void *lenp)'),
    getsockname: f('int getsockname(int fd, void *addr, void *lenp)'),
    shutdown: f('int shutdown(int fd, int how)'),
    close: f('int close(int fd)'),
    poll: f('int poll(void *fds, unsigned long nfds, int timeout)') as unknown as Libc['poll'],
    recvmsg: f('long recvmsg(int fd, void *msg, int flags)'),
    sendmsg: f('long sendmsg(int fd, const void *msg, int flags)'),
    send: f('long send(int fd, const void *buf, size_t len, int flags)'),
    recv: f('long recv(int fd, void *buf, size_t len, int flags)'),
    sendto: f('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    sendfile: f('long sendfile(int out_fd, int in_fd, void *offset, size_t count)') as unknown as Libc['sendfile'],
    ioctlInt: (fd, request, out) => ioctl(fd, request, 'void *', out) as number,
    if_nametoindex: f('unsigned int if_nametoindex(const char *name)'),
    setns: f('int setns(int fd, int nstype)'),
    clock_gettime: f('int clock_gettime(int clock, void *ts)'),
    strerror: f('const char *strerror(int errnum)'),
  };
}

/** Promise form of an async koffi call: runs on a libuv worker, errno read in the callback. */
export function callAsync<A extends unknown[]>(
  fn: { async: (...args: [...A, (err: unknown, res: number) => void]) => void },
  ...args: A
): Promise<{ ret: number; errno: number }> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, res: number) => {
      if (err) reject(new NicmatrixError('SYSCALL', `async native call failed: ${describeError(err)}`, { cause: err }));
      else resolve({ ret: res, errno: res < 0 ? koffi.errno() : 0 });
    });
  });
}
