#!/usr/bin/env bash
# Prints the lab inventory's runner labels as a JSON list (one lab job per label).
# usage: ci/lab/labels.sh INVENTORY
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -eq 1 ] || { echo "usage: $0 INVENTORY" >&2; exit 2; }
exec node "$root/bin/nicmatrix.js" lab --lab "$1" --list-labels
