#!/usr/bin/env bash
# Interop with the original Go dfget: ORIGINAL_DFGET=/path/to/original/dfget eng/interop-original.sh
#
# On loopback: an nginx origin, this project's supernode, and dfget clients of both kinds, each with its own home and a
# pinned uploader port (the original picks its port from the clock, so two of them would pick the same one).
#   A  the original dfget downloads through our supernode;
#   B  then our dfget downloads the same file and must take its pieces from the original's uploader;
#   C  our dfget downloads a second file first, then the original must take its pieces from our uploader.
# Every copy must match the source's md5, and the supernode must count each download once. Exits non-zero on a failure.
# The original binary is not part of this repository or of CI: build it from the original project's sources.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
ORIG="${ORIGINAL_DFGET:?set ORIGINAL_DFGET to the original dfget binary}"
SIZE_MIB="${INTEROP_SIZE_MIB:-64}"
WORK="$(mktemp -d /tmp/dragonfly-interop.XXXXXX)"
PIDS=()
# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"
cleanup() { stop_work "$WORK" "${INTEROP_KEEP:-}" "${PIDS[@]}"; }
trap cleanup EXIT

"$ORIG" version >/dev/null 2>&1 || { echo "$ORIG does not run" >&2; exit 2; }
mkdir -p "$WORK/www" "$WORK/out"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/www/one.bin"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/www/two.bin"
ORIGIN_PORT=$(free_port); API_PORT=$(free_port); DL_PORT=$(free_port)
PIDS+=("$(start_origin "$WORK" "$ORIGIN_PORT")")
"$BIN/supernode" --home-dir "$WORK/sn" --advertise-ip 127.0.0.1 --port "$API_PORT" --download-port "$DL_PORT" \
  > "$WORK/supernode.out" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$API_PORT/_ping"

FAILED=0
check() { # name condition-description command...
  local name=$1 what=$2; shift 2
  if "$@"; then echo "PASS  $name: $what"; else echo "FAIL  $name: $what"; FAILED=1; fi
}
same_md5() { [ "$(md5sum < "$1" | cut -d' ' -f1)" = "$(md5sum < "$2" | cut -d' ' -f1)" ]; }
# Runs one client; the original is run from its home so that its uploader's log (written to ./logs) stays there too.
original() { # home port url out
  mkdir -p "$1"
  (cd "$1" && "$ORIG" -u "$3" -o "$4" --node "127.0.0.1:$API_PORT" --home "$1" --port "$2" --notbs --verbose) > "$1.out" 2>&1
}
ours() { # home port url out
  "$BIN/dfget" -u "$3" -o "$4" --node "127.0.0.1:$API_PORT" --home "$1" --port "$2" --notbs > "$1.out" 2>&1
}

P1=$(free_port); P2=$(free_port); P3=$(free_port); P4=$(free_port)
ONE="http://127.0.0.1:$ORIGIN_PORT/one.bin"; TWO="http://127.0.0.1:$ORIGIN_PORT/two.bin"

check A "original dfget through our supernode exits 0" original "$WORK/h1" "$P1" "$ONE" "$WORK/out/a.bin"
check A "its copy matches the source" same_md5 "$WORK/out/a.bin" "$WORK/www/one.bin"

check B "our dfget after it exits 0" ours "$WORK/h2" "$P2" "$ONE" "$WORK/out/b.bin"
check B "its copy matches the source" same_md5 "$WORK/out/b.bin" "$WORK/www/one.bin"
B_PEERS=$(sed -n 's/.*from peers: \([0-9]*\) B.*/\1/p' "$WORK/h2.out" | tail -1)
check B "it took ${B_PEERS:-0} bytes from peers (the original's uploader is the only one)" test "${B_PEERS:-0}" -gt 0

check C "our dfget first on a second file exits 0" ours "$WORK/h3" "$P3" "$TWO" "$WORK/out/c1.bin"
check C "the original after it exits 0" original "$WORK/h4" "$P4" "$TWO" "$WORK/out/c2.bin"
check C "the original's copy matches the source" same_md5 "$WORK/out/c2.bin" "$WORK/www/two.bin"
C_PIECES=$(grep -c "from peer:127.0.0.1:$P3," "$WORK/h4/logs/dfclient.log" || true)
check C "the original took $C_PIECES pieces from our uploader (127.0.0.1:$P3)" test "$C_PIECES" -gt 0

REPORTED=$(curl -fsS "http://127.0.0.1:$API_PORT/metrics" | awk '/^dragonfly_dfget_download_total/ { s += $2 } END { print s + 0 }')
check metrics "the supernode counted $REPORTED downloads for the 4 made" test "$REPORTED" -eq 4

[ "$FAILED" = 0 ] || { echo "client outputs and logs: INTEROP_KEEP=1 keeps $WORK" >&2; exit 1; }
