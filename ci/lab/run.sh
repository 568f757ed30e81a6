#!/usr/bin/env bash
# Runs every machine of the inventory carrying LABEL that may run on this host;
# one run record per machine in OUTDIR. Needs root (netns, raw sockets): re-runs
# itself with sudo when it is not. NICMATRIX_CHECKS (space-separated globs)
# overrides the inventory's checks. Exit status is nicmatrix's: 0 all good,
# 1 a check failed, 2 harness or usage errors.
# usage: ci/lab/run.sh INVENTORY LABEL OUTDIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -eq 3 ] || { echo "usage: $0 INVENTORY LABEL OUTDIR" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then exec sudo --preserve-env=CI,NICMATRIX_CHECKS,NICMATRIX_SSH_CONFIG,NICMATRIX_REMOTE_ROOT,NICMATRIX_SEED "$0" "$@"; fi
inventory="$1" label="$2" outdir="$3"
args=(run --lab "$inventory" --label "$label" --out "$outdir" --no-store)
for glob in ${NICMATRIX_CHECKS:-}; do args+=(--checks "$glob"); done
[ -z "${NICMATRIX_SEED:-}" ] || args+=(--seed "$NICMATRIX_SEED")
mkdir -p "$outdir"
status=0
node "$root/bin/nicmatrix.js" "${args[@]}" || status=$?
# The artifact upload runs as the runner's user: hand the records back to it.
if [ -n "${SUDO_UID:-}" ]; then chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$outdir"; fi
echo "lab run: label $label: records in $outdir, exit $status"
exit $status
