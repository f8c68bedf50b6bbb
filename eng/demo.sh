#!/usr/bin/env bash
# A local P2P distribution on loopback: an nginx origin, one supernode and three dfget peers, each with its own home.
# Peer 1 fetches first (the supernode pulls the origin once); peers 2 and 3 then fetch together and take pieces from
# peer 1 and from each other. Prints where every peer's bytes came from and checks that every copy is identical.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
SIZE_MIB="${DEMO_SIZE_MIB:-48}"
WORK="$(mktemp -d /tmp/dragonfly-demo.XXXXXX)"
PIDS=()

# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"
cleanup() { stop_work "$WORK" "${DEMO_KEEP:-}" "${PIDS[@]}"; }
trap cleanup EXIT

ORIGIN_PORT=$(free_port); API_PORT=$(free_port); DL_PORT=$(free_port)
mkdir -p "$WORK/www" "$WORK/sn" "$WORK/out"
echo "==> generating a ${SIZE_MIB} MiB file"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/www/demo.bin"
SRC_MD5=$(md5sum "$WORK/www/demo.bin" | cut -d' ' -f1)

ORIGIN_PID=$(start_origin "$WORK" "$ORIGIN_PORT"); PIDS+=("$ORIGIN_PID")

echo "==> starting supernode on :$API_PORT (download port :$DL_PORT)"
"$BIN/supernode" --home-dir "$WORK/sn" --advertise-ip 127.0.0.1 --port "$API_PORT" --download-port "$DL_PORT" \
  > "$WORK/supernode.out" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$API_PORT/_ping"

URL="http://127.0.0.1:$ORIGIN_PORT/demo.bin"
run_peer() {
  local n=$1 port=$2
  "$BIN/dfget" -u "$URL" -o "$WORK/out/peer$n.bin" -n "127.0.0.1:$API_PORT" --home "$WORK/home$n" \
    --ip 127.0.0.1 --port "$port" --alivetime 60s > "$WORK/peer$n.out" 2>&1
}

echo "==> peer 1 downloads"
run_peer 1 "$(free_port)"
echo "==> peers 2 and 3 download together"
run_peer 2 "$(free_port)" & P2=$!
run_peer 3 "$(free_port)" & P3=$!
wait $P2; wait $P3

origin_bytes=$(awk '$4 == "/demo.bin" { s += $2 } END { print s + 0 }' "$WORK/access.log")
echo
printf '%-8s %14s %16s %14s  %s\n' peer "from peers" "from supernode" "from origin" md5
status=0
for n in 1 2 3; do
  line=$(grep -E 'from peers' "$WORK/peer$n.out" | tail -1 || true)
  peers=$(sed -n 's/.*from peers: \([0-9]*\).*/\1/p' <<<"$line")
  sn=$(sed -n 's/.*from supernode: \([0-9]*\).*/\1/p' <<<"$line")
  org=$(sed -n 's/.*from origin: \([0-9]*\).*/\1/p' <<<"$line")
  md5=$(md5sum "$WORK/out/peer$n.bin" 2>/dev/null | cut -d' ' -f1 || echo missing)
  ok=OK; [ "$md5" = "$SRC_MD5" ] || { ok=MISMATCH; status=1; }
  printf '%-8s %14s %16s %14s  %s %s\n' "peer$n" "${peers:-?}" "${sn:-?}" "${org:-?}" "$md5" "$ok"
  [ -n "$line" ] || { echo "--- peer$n output:"; cat "$WORK/peer$n.out"; }
done
echo
echo "source: $SIZE_MIB MiB, md5 $SRC_MD5; the origin served $origin_bytes bytes in all ($(awk -v b="$origin_bytes" -v s="$((SIZE_MIB*1024*1024))" 'BEGIN{printf "%.2f", b/s}')x the file)"
[ $status -eq 0 ] && echo "every copy is identical to the source" || echo "SOME COPIES DIFFER"

# The supernode's own accounting of the same swarm, from its live view (what the page at /swarm draws).
task=$(curl -fsS "http://127.0.0.1:$API_PORT/api/v1/tasks" | sed -n 's/.*"ID":"\([0-9a-f]\{64\}\)".*/\1/p')
if [ -n "$task" ] && swarm=$(curl -fsS "http://127.0.0.1:$API_PORT/api/v1/tasks/$task/swarm"); then
  field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$swarm"; }
  echo "the supernode's own count: $(field piecesFromPeers) pieces ($(field bytesFromPeers) bytes) served by peers," \
    "$(field piecesFromSupernode) ($(field bytesFromSupernode) bytes) by itself, with 5 bytes of framing per piece"
  echo "(from GET /api/v1/tasks/${task:0:12}…/swarm, which a running supernode draws live at /swarm)"
fi
exit $status
