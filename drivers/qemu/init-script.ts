/**
 * The guest's /init and kernel command line (pure). The init is the same for
 * every guest (it is baked into the cached initramfs); what differs per guest
 * (MAC, addresses, agent path) travels as `nicmatrix.*` command-line words.
 */
import { NicmatrixError } from '../../matrix/errors.js';

/** Modules loaded before device probing: the control channel and the host's root. */
export const BASE_MODULES = ['virtio_pci', 'virtio_console', '9pnet_virtio', '9p'];
/**
 * Protocol modules the checks use when the kernel has them (tunnel-csum, sctp-csum, tso/vlan), loaded at boot:
 * the agent runs chrooted in the host's root, where the guest's modules are not. crc32c_generic
 * first: SCTP asks the crypto API for crc32c, which the kernel cannot load by itself here.
 */
export const PROTOCOL_MODULES = ['crc32c_generic', 'vxlan', 'geneve', 'ip_gre', 'ip6_gre', 'sctp', '8021q'];
/** mount_tag of the host's root (`-virtfs …,mount_tag=`). */
export const HOSTROOT_TAG = 'hostroot';
/** Name of the virtio-serial port the agent serves on. */
export const AGENT_PORT_NAME = 'nicmatrix.0';
/** `nicmatrix.node=` when the agent is the static native one: it runs by itself. */
export const NO_NODE = 'none';
/** Console line prefix of the init; `nic …` and `FAILED: …` lines are read back by the controller (console.ts). */
export const INIT_PREFIX = 'nicmatrix-init:';

/**
 * Quiet console on ttyS0; on panic reboot at once, which ends QEMU (-no-reboot).
 * no_timer_check: on a loaded host a TCG guest failed the IO-APIC timer check and hung at boot;
 * mitigations=off: a throwaway test guest, whose syscalls then cost TCG less (no page-table switch per syscall).
 */
export const BASE_CMDLINE = ['console=ttyS0', 'quiet', 'panic=-1', 'i8042.noaux', 'i8042.nokbd', 'no_timer_check', 'mitigations=off'];
/** Command line of the KVM probe's boot: the init powers off as soon as it runs. */
export const PROBE_CMDLINE = [...BASE_CMDLINE, 'nicmatrix.probe=1'].join(' ');
/** Console line the init prints in probe mode. */
export const PROBE_OK = `${INIT_PREFIX} probe ok`;

/** What one guest needs to know at boot. */
export interface GuestBootParams {
  /** MAC of the emulated NIC (set with `-device …,mac=`); the init finds the interface by it. */
  mac: string;
  /** Name the init gives the interface. */
  ifname: string;
  /** Address/prefix, e.g. `198.18.3.1/24`, `2001:db8:3::1/64`. */
  ipv4: string;
  ipv6: string;
  peerIpv4: string;
  peerIpv6: string;
  peerMac: string;
  /** Host paths, seen in the guest through the 9p root. */
  node: string;
  agent: string;
  /** Extra kernel command-line words (spec option `append=`). */
  extra?: string[];
}

/** The `nicmatrix.KEY` words of the link every guest's init sets up (x86 and sparc64 alike): its NIC, its addresses, the peer's. */
export function linkWords(p: Omit<GuestBootParams, 'node' | 'agent'>): [string, string][] {
  return [
    ['mac', p.mac],
    ['ifname', p.ifname],
    ['ip4', p.ipv4],
    ['ip6', p.ipv6],
    ['peer4', p.peerIpv4],
    ['peer6', p.peerIpv6],
    ['peermac', p.peerMac],
  ];
}

/** The kernel command line of a test guest. */
export function kernelCmdline(p: GuestBootParams): string {
  const words: [string, string][] = [...linkWords(p), ['node', p.node], ['agent', p.agent], ['port', AGENT_PORT_NAME]];
  for (const [k, v] of words) {
    if (!/^[^\s"'\\]+$/.test(v))
      throw new NicmatrixError('GUEST', `guest command line: nicmatrix.${k} must be one word without quotes, found ${JSON.stringify(v)}`);
  }
  const line = [...BASE_CMDLINE, ...words.map(([k, v]) => `nicmatrix.${k}=${v}`), ...(p.extra ?? [])].join(' ');
  // x86 COMMAND_LINE_SIZE: the kernel would silently cut a longer line.
  if (line.length > 2047) throw new NicmatrixError('GUEST', `guest command line: expected at most 2047 characters, found ${line.length}`);
  return line;
}

/** The /init script (busybox sh, PID 1). It never exits: it powers off, which ends QEMU. */
export function initScript(): string {
  return `#!/bin/busybox sh
# nicmatrix guest init: load drivers, mount the host's root read-only, configure
# the NIC, then serve the host's agent on the virtio-serial port.
/bin/busybox --install -s /bin
export PATH=/bin
say() { echo "${INIT_PREFIX} $*"; }
# PID 1 must not exit (that panics); powering off ends QEMU, which the controller sees.
fail() { say "FAILED: $*"; poweroff -f; sleep 10; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for w in $(cat /proc/cmdline); do
  case "$w" in
    nicmatrix.mac=*) NM_MAC=\${w#*=} ;;
    nicmatrix.ifname=*) NM_IFNAME=\${w#*=} ;;
    nicmatrix.ip4=*) NM_IP4=\${w#*=} ;;
    nicmatrix.ip6=*) NM_IP6=\${w#*=} ;;
    nicmatrix.peer4=*) NM_PEER4=\${w#*=} ;;
    nicmatrix.peer6=*) NM_PEER6=\${w#*=} ;;
    nicmatrix.peermac=*) NM_PEERMAC=\${w#*=} ;;
    nicmatrix.node=*) NM_NODE=\${w#*=} ;;
    nicmatrix.agent=*) NM_AGENT=\${w#*=} ;;
    nicmatrix.port=*) NM_PORT=\${w#*=} ;;
    nicmatrix.probe=*) NM_PROBE=\${w#*=} ;;
  esac
done
# The KVM probe boots this image only to see the kernel reach userspace.
if [ "$NM_PROBE" = 1 ]; then say "probe ok"; poweroff -f; sleep 10; fi
[ -n "$NM_MAC" ] && [ -n "$NM_AGENT" ] || fail "kernel command line lacks nicmatrix.mac/nicmatrix.agent"
# Built-in drivers make modprobe fail; the mount below tells whether 9p is really there.
modprobe -q -a ${BASE_MODULES.join(' ')}
# Missing ones are fine: a check whose protocol is absent says which module it lacks.
modprobe -q -a ${PROTOCOL_MODULES.join(' ')}
# Load drivers by modalias, as udev would: every driver claiming the device loads, the kernel picks.
for bus in pci virtio; do
  for a in /sys/bus/$bus/devices/*/modalias; do [ -r "$a" ] && modprobe -q -a "$(cat "$a")"; done
done
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 ${HOSTROOT_TAG} /host || fail "could not mount the host's root over 9p (mount_tag ${HOSTROOT_TAG})"
# A project checked out under /tmp or /run (a CI clone) would vanish under the tmpfs below: keep it visible.
NM_ROOT=\${NM_AGENT%/dist/*}
# A native agent outside a project (in the cache): its own directory.
[ "$NM_ROOT" = "$NM_AGENT" ] && NM_ROOT=\${NM_AGENT%/*}
case "$NM_ROOT" in /tmp/*|/run/*) mkdir -p /keep && mount -o bind "/host$NM_ROOT" /keep || fail "could not keep $NM_ROOT" ;; *) NM_ROOT= ;; esac
mount -t proc proc /host/proc && mount -t sysfs sysfs /host/sys && mount -t devtmpfs devtmpfs /host/dev &&
  mount -t tmpfs tmpfs /host/tmp && mount -t tmpfs tmpfs /host/run || fail "could not mount proc/sys/dev/tmp/run inside the host's root"
if [ -n "$NM_ROOT" ]; then mkdir -p "/host$NM_ROOT" && mount -o bind /keep "/host$NM_ROOT" || fail "could not mount $NM_ROOT over the guest's /tmp"; fi
H() { chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LC_ALL=C "$@"; }
IF=
for d in /sys/class/net/*; do [ "$(cat "$d/address")" = "$NM_MAC" ] && IF=\${d##*/}; done
if [ -z "$IF" ]; then
  fail "no network interface has MAC $NM_MAC: no driver bound to the emulated NIC (PCI devices: $(cat /sys/bus/pci/devices/*/uevent | grep -E '^(DRIVER|PCI_ID)=' | tr '\\n' ' '))"
fi
DEV=$(readlink -f "/sys/class/net/$IF/device")
DRV=$(readlink "$DEV/driver"); DRV=\${DRV##*/}
# A virtio NIC's device is on the virtio bus; its PCI identity is the parent's.
case "$(readlink "$DEV/subsystem")" in */virtio) DEV=\${DEV%/*} ;; esac
V=$(cat "$DEV/vendor"); D=$(cat "$DEV/device"); SV=$(cat "$DEV/subsystem_vendor"); SD=$(cat "$DEV/subsystem_device")
[ "$IF" = "$NM_IFNAME" ] || ip link set dev "$IF" name "$NM_IFNAME" || fail "could not rename $IF to $NM_IFNAME"
IF=$NM_IFNAME
say "nic ifname=$IF bus=\${DEV##*/} pci=\${V#0x}:\${D#0x}:\${SV#0x}:\${SD#0x} driver=$DRV"
# Keep the guest's own chatter (router solicitations) off the wire under test.
echo 0 > /proc/sys/net/ipv6/conf/$IF/accept_ra
echo 0 > /proc/sys/net/ipv6/conf/$IF/router_solicitations
H ip addr add "$NM_IP4" dev "$IF" || fail "ip addr add $NM_IP4 dev $IF"
H ip -6 addr add "$NM_IP6" dev "$IF" nodad || fail "ip -6 addr add $NM_IP6 dev $IF"
H ip link set "$IF" up || fail "ip link set $IF up"
H ip neigh replace "$NM_PEER4" lladdr "$NM_PEERMAC" dev "$IF" nud permanent || fail "ip neigh replace $NM_PEER4"
H ip -6 neigh replace "$NM_PEER6" lladdr "$NM_PEERMAC" dev "$IF" nud permanent || fail "ip -6 neigh replace $NM_PEER6"
PORT=
i=0
while [ -z "$PORT" ] && [ $i -lt 100 ]; do
  for p in /sys/class/virtio-ports/*; do [ "$(cat "$p/name" 2>/dev/null)" = "$NM_PORT" ] && [ -c "/dev/\${p##*/}" ] && PORT=/dev/\${p##*/}; done
  [ -n "$PORT" ] || usleep 50000
  i=$((i+1))
done
[ -n "$PORT" ] || fail "virtio-serial port $NM_PORT did not appear"
say "agent starting on $PORT at uptime $(cut -d' ' -f1 /proc/uptime)s"
# One read-write open shared as stdin and stdout: a virtio port admits one opener at a time.
if [ "$NM_NODE" = ${NO_NODE} ]; then H "$NM_AGENT" <>"$PORT" >&0; else H "$NM_NODE" "$NM_AGENT" <>"$PORT" >&0; fi
say "agent exited with status $?"
poweroff -f
sleep 10
`;
}
