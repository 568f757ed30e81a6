#!/bin/sh
# Cross-builds the sparc64 guest kernel: build-kernel.sh TARBALL FRAGMENT WORKDIR OUT.
# WORKDIR keeps the unpacked tree, so a rebuild with changed inputs is incremental.
set -eu
tarball=$1 fragment=$2 work=$3 out=$4
cross=${CROSS_COMPILE:-sparc64-linux-gnu-}
jobs=${NICMATRIX_KERNEL_JOBS:-2}
mkdir -p "$work"
if [ ! -f "$work/src/.unpacked" ]; then
  rm -rf "$work/src" && mkdir -p "$work/src"
  tar -xf "$tarball" -C "$work/src" --strip-components=1
  touch "$work/src/.unpacked"
fi
cd "$work/src"
make -s ARCH=sparc64 CROSS_COMPILE="$cross" tinyconfig
# merge_config warns (not fails) on a value olddefconfig overrode; the check below catches what matters.
KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
make -s ARCH=sparc64 CROSS_COMPILE="$cross" olddefconfig
for opt in CONFIG_HAPPYMEAL CONFIG_PACKET CONFIG_IPV6 CONFIG_VIRTIO_CONSOLE CONFIG_SERIAL_SUNSU_CONSOLE CONFIG_FUTEX; do
  grep -q "^$opt=y" .config || { echo "build-kernel.sh: expected $opt=y in the merged config, found: $(grep "$opt[= ]" .config || echo nothing)" >&2; exit 1; }
done
nice -n 19 make -s -j"$jobs" ARCH=sparc64 CROSS_COMPILE="$cross" vmlinux
"${cross}strip" -o "$out.tmp" vmlinux
mv "$out.tmp" "$out"
