/** System prerequisites, each with how to find it and how to get it. */
import fs from 'node:fs';
import { run } from './exec.js';

export interface Prereq {
  name: string;
  /** What needs it: `core` (every run), `qemu`, `tests`, `bench`. */
  for: 'core' | 'qemu' | 'tests' | 'bench';
  /** Debian package that provides it, for `doctor --install`. */
  pkg?: string;
  /** Resolves to what was found; throws (or returns ok: false) with what is wrong. */
  probe(): Promise<{ ok: boolean; found: string }>;
  /** How to get it when there is no package to install. */
  fix?: string;
}

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
const CAP_SYS_ADMIN = 21;

async function has(cmd: string, args: string[], expect?: RegExp): Promise<{ ok: boolean; found: string }> {
  try {
    const r = await run(cmd, args, { reject: false, timeoutMs: 10_000 });
    const text = ((r.stdout + r.stderr).trim().split('\n')[0] ?? '').slice(0, 80);
    if (r.exitCode !== 0) return { ok: false, found: `\`${cmd} ${args.join(' ')}\` exited ${r.exitCode}: ${text}` };
    if (expect && !expect.test(r.stdout))
      return { ok: false, found: `\`${cmd} ${args.join(' ')}\` printed ${JSON.stringify(r.stdout.slice(0, 60))}` };
    return { ok: true, found: expect ? `\`${cmd} ${args.join(' ')}\` answers as expected` : text };
  } catch {
    return { ok: false, found: `${cmd} not found` };
  }
}

/** Debian's kernel source (package linux-source-6.1), the sparc64 guest kernel's input. */
export const LINUX_SOURCE_TARBALL = '/usr/src/linux-source-6.1.tar.xz';

function fileProbe(file: string): { ok: boolean; found: string } {
  return { ok: fs.existsSync(file), found: fs.existsSync(file) ? file : `no ${file}` };
}

function capabilities(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export const PREREQS: readonly Prereq[] = [
  {
    name: 'privileges (root, or CAP_NET_ADMIN + CAP_NET_RAW + CAP_SYS_ADMIN)',
    for: 'core',
    fix: 'run as root (sudo) or grant the capabilities',
    probe: async () => {
      const caps = capabilities();
      const need = [CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN].filter((c) => !(caps & (1n << BigInt(c))));
      return {
        ok: need.length === 0,
        found: need.length === 0 ? `uid ${process.getuid?.()}, capabilities present` : `missing capability bit(s) ${need.join(', ')}`,
      };
    },
  },
  {
    name: 'Node.js ≥ 20',
    for: 'core',
    fix: 'install Node.js 20 or newer',
    probe: async () => ({ ok: Number(process.versions.node.split('.')[0]) >= 20, found: process.version }),
  },
  { name: 'ethtool with --json', for: 'core', pkg: 'ethtool', probe: () => has('ethtool', ['--json', '-k', 'lo'], /^\s*\[/) },
  { name: 'iproute2 (ip -json)', for: 'core', pkg: 'iproute2', probe: () => has('ip', ['-json', 'link', 'show', 'lo'], /^\[/) },
  { name: 'nstat --json', for: 'core', pkg: 'iproute2', probe: () => has('nstat', ['--json', '-a', '-z', '-s'], /^\{/) },
  {
    name: 'AF_PACKET sockets',
    for: 'core',
    fix: 'a kernel with CONFIG_PACKET',
    probe: async () => ({
      ok: fs.existsSync('/proc/net/packet'),
      found: fs.existsSync('/proc/net/packet') ? '/proc/net/packet present' : 'no /proc/net/packet',
    }),
  },
  {
    name: 'network namespaces and veth',
    for: 'core',
    fix: 'a kernel with CONFIG_NET_NS and CONFIG_VETH',
    probe: async () => {
      const ns = `nm-doctor-${process.pid}`;
      try {
        await run('ip', ['netns', 'add', ns]);
        await run('ip', ['-n', ns, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
        return { ok: true, found: 'created a netns and a veth pair' };
      } catch (e) {
        return { ok: false, found: e instanceof Error ? e.message : String(e) };
      } finally {
        await run('ip', ['netns', 'delete', ns], { reject: false });
      }
    },
  },
  { name: 'nftables (fault injection in tests)', for: 'tests', pkg: 'nftables', probe: () => has('nft', ['--version']) },
  {
    name: 'tun/tap (/dev/net/tun)',
    for: 'qemu',
    fix: 'a kernel with CONFIG_TUN (modprobe tun)',
    probe: async () => ({
      ok: fs.existsSync('/dev/net/tun'),
      found: fs.existsSync('/dev/net/tun') ? '/dev/net/tun present' : 'no /dev/net/tun',
    }),
  },
  { name: 'QEMU (qemu-system-x86_64)', for: 'qemu', pkg: 'qemu-system-x86', probe: () => has('qemu-system-x86_64', ['--version']) },
  {
    name: 'busybox-static (guest userland)',
    for: 'qemu',
    pkg: 'busybox-static',
    probe: async () => ({ ok: fs.existsSync('/bin/busybox'), found: fs.existsSync('/bin/busybox') ? '/bin/busybox' : 'no /bin/busybox' }),
  },
  { name: 'xz-utils (uncompressed guest kernel, 2 s faster boot)', for: 'qemu', pkg: 'xz-utils', probe: () => has('xz', ['--version']) },
  { name: 'kmod (depmod for the guest)', for: 'qemu', pkg: 'kmod', probe: () => has('depmod', ['--version']) },
  {
    name: 'OpenSSH server (remote-peer tests)',
    for: 'tests',
    pkg: 'openssh-server',
    probe: async () => ({
      ok: fs.existsSync('/usr/sbin/sshd'),
      found: fs.existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : 'no /usr/sbin/sshd',
    }),
  },
  { name: 'OpenSSH client (remote peers)', for: 'tests', pkg: 'openssh-client', probe: () => has('ssh', ['-V']) },
  { name: 'tcpdump (pcap cross-check in tests)', for: 'tests', pkg: 'tcpdump', probe: () => has('tcpdump', ['--version']) },
  { name: 'make (native agent build)', for: 'tests', pkg: 'make', probe: () => has('make', ['--version']) },
  { name: 'gcc (native agent build)', for: 'tests', pkg: 'gcc', probe: () => has('gcc', ['--version']) },
  { name: 'musl-tools (static native agent, agent=native)', for: 'tests', pkg: 'musl-tools', probe: () => has('musl-gcc', ['--version']) },
  {
    name: 'sparc64 cross compiler (qemu:sunhme kernel and agent)',
    for: 'qemu',
    pkg: 'gcc-sparc64-linux-gnu',
    probe: () => has('sparc64-linux-gnu-gcc', ['--version']),
  },
  {
    name: 'sparc64 C library (static sparc64 agent)',
    for: 'qemu',
    pkg: 'libc6-dev-sparc64-cross',
    probe: async () => fileProbe('/usr/sparc64-linux-gnu/lib/libc.a'),
  },
  {
    name: 'Linux 6.1 source (qemu:sunhme kernel)',
    for: 'qemu',
    pkg: 'linux-source-6.1',
    probe: async () => fileProbe(LINUX_SOURCE_TARBALL),
  },
  { name: 'flex (kernel build)', for: 'qemu', pkg: 'flex', probe: () => has('flex', ['--version']) },
  { name: 'bison (kernel build)', for: 'qemu', pkg: 'bison', probe: () => has('bison', ['--version']) },
  { name: 'bc (kernel build)', for: 'qemu', pkg: 'bc', probe: () => has('bc', ['--version']) },
  {
    name: 'QEMU sparc64 (qemu-system-sparc64, qemu:sunhme)',
    for: 'qemu',
    pkg: 'qemu-system-sparc',
    probe: () => has('qemu-system-sparc64', ['--version']),
  },
  { name: 'iperf3 (benchmark reference)', for: 'bench', pkg: 'iperf3', probe: () => has('iperf3', ['--version']) },
  { name: 'chromium (website browser tests)', for: 'tests', pkg: 'chromium', probe: () => has('/usr/bin/chromium', ['--version']) },
];
