#!/usr/bin/env bash
# Ingests every run record under RECORDS_DIR into the matrix store and builds
# the static site into SITE_DIR, with the KCIDB and JUnit exports beside it.
# The store is NICMATRIX_STORE (default .nicmatrix/matrix.db): keep it between
# runs (a CI cache) and the site shows the history across kernels.
# Exit status: 0 published; 2 when a record was refused (the site is still built).
# usage: ci/lab/publish.sh RECORDS_DIR SITE_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 RECORDS_DIR SITE_DIR" >&2; exit 2; }
records="$1" site="$2" store="${NICMATRIX_STORE:-.nicmatrix/matrix.db}"
nm() { node "$root/bin/nicmatrix.js" "$@"; }
mapfile -t files < <(find "$records" -name '*.json' -type f -not -path '*.pcap/*' | sort)
[ ${#files[@]} -gt 0 ] || { echo "publish: no run records under $records" >&2; exit 2; }
status=0
nm ingest --store "$store" "${files[@]}" || status=$?
nm site --store "$store" --out "$site"
nm report --format kcidb --store "$store" --out "$site/kcidb.json"
nm report --format junit --store "$store" --latest --out "$site/junit.xml"
echo "publish: ${#files[@]} record(s), site in $site, exit $status"
exit $status
