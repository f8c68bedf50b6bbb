#!/usr/bin/env bash
# Supernode figures asked for by the supernode issue, against the published bin/supernode and an nginx origin:
#   1. CDN time to the first piece being available (legacy pull answers 601) vs time to the whole file cached,
#      for 32 MiB and 1 GiB: streaming means the first must not grow with the file size;
#   2. registration throughput: 2,000 legacy registrations for one URL, 200 concurrent clients (curl --parallel);
#   3. supernode CPU seconds per GiB served from its download port (4 full reads of the cached 1 GiB file).
# Prints a markdown section (appended to docs/benchmarks.md by build.sh bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
WORK="$(mktemp -d /tmp/dragonfly-snbench.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"

ORIGIN_PORT=$(free_port)
ORIGIN_PID=$(start_origin "$WORK" "$ORIGIN_PORT"); PIDS+=("$ORIGIN_PID")
head -c $((32 * 1024 * 1024)) /dev/urandom > "$WORK/www/f32m.bin"
head -c $((1024 * 1024 * 1024)) /dev/urandom > "$WORK/www/f1g.bin"

SN_PID=""; SN_PORT=""; DL_PORT=""
start_supernode() {
  SN_PORT=$(free_port); DL_PORT=$(free_port)
  "$BIN/supernode" --home-dir "$WORK/sn-$1" --advertise-ip 127.0.0.1 --port "$SN_PORT" --download-port "$DL_PORT" > "$WORK/sn-$1.log" 2>&1 &
  SN_PID=$!; PIDS+=("$SN_PID"); wait_http "http://127.0.0.1:$SN_PORT/_ping"
}
register() { # url cid port -> taskId
  curl -fsS -X POST "http://127.0.0.1:$SN_PORT/peer/registry" -H 'Content-Type: application/json' \
    -d "{\"rawUrl\":\"$1\",\"taskUrl\":\"$1\",\"cid\":\"$2\",\"ip\":\"127.0.0.1\",\"hostName\":\"bench\",\"port\":$3,\"path\":\"/peer/file/x\",\"superNodeIp\":\"127.0.0.1\",\"version\":\"1.0.6\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["taskId"])'
}

echo "## Supernode"
echo
echo "Measured by \`eng/bench-supernode.sh\` on $(date -u +%F), $(nproc) cores."
echo
echo "| file | time to first piece available, s | time to whole file cached, s |"
echo "| --- | --- | --- |"
for f in f32m f1g; do
  start_supernode "ttfp-$f"
  url="http://127.0.0.1:$ORIGIN_PORT/$f.bin"
  t0=$(now); id=$(register "$url" "bench-$f" 15001)
  while :; do
    code=$(curl -fsS "http://127.0.0.1:$SN_PORT/peer/task?srcCid=bench-$f&dstCid=&range=&result=502&status=700&taskId=$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
    [ "$code" = 601 ] && break; [ "$code" = 602 ] || { echo "unexpected code $code" >&2; exit 1; }; sleep 0.005
  done
  t1=$(now)
  until curl -fsS "http://127.0.0.1:$SN_PORT/api/v1/tasks/$id" | grep -q '"cdnStatus":"SUCCESS"'; do sleep 0.02; done
  t2=$(now)
  echo "| ${f#f} | $(elapsed "$t0" "$t1") | $(elapsed "$t0" "$t2") |"
  if [ "$f" = f1g ]; then
    shard=${id:0:3}; c0=$(cpu_of "$SN_PID"); d0=$(now)
    for i in 1 2 3 4; do curl -fsS -o /dev/null "http://127.0.0.1:$DL_PORT/download/$shard/$id"; done
    c1=$(cpu_of "$SN_PID"); d1=$(now)
    DL_LINE="Download port: 4 GiB read by curl in $(elapsed "$d0" "$d1") s; supernode CPU $(elapsed "$c0" "$c1") s, i.e. $(awk -v c="$(elapsed "$c0" "$c1")" 'BEGIN{printf "%.3f", c/4}') CPU-s per GiB served."
  fi
  kill "$SN_PID"; wait "$SN_PID" 2>/dev/null || true
done
echo

start_supernode reg
url="http://127.0.0.1:$ORIGIN_PORT/f32m.bin"
register "$url" warmup 15001 > /dev/null
cfg="$WORK/reg.cfg"; : > "$cfg"
for i in $(seq 1 2000); do
  [ "$i" = 1 ] || echo next >> "$cfg"
  cat >> "$cfg" <<CFG
url = "http://127.0.0.1:$SN_PORT/peer/registry"
header = "Content-Type: application/json"
data = "{\"rawUrl\":\"$url\",\"taskUrl\":\"$url\",\"cid\":\"10.0.$((i / 250)).$((i % 250))-$i-1.000\",\"ip\":\"10.0.$((i / 250)).$((i % 250))\",\"hostName\":\"h$i\",\"port\":15001,\"path\":\"/peer/file/x\",\"superNodeIp\":\"127.0.0.1\",\"version\":\"1.0.6\"}"
output = "/dev/null"
write-out = "%{http_code}\\n"
CFG
done
c0=$(cpu_of "$SN_PID"); t0=$(now)
curl -sS --parallel --parallel-max 200 --parallel-immediate -K "$cfg" > "$WORK/reg.codes"
t1=$(now); c1=$(cpu_of "$SN_PID")
ok=$(grep -c '^200$' "$WORK/reg.codes" || true)
echo "Registration: 2,000 registrations for one URL from 200 concurrent clients in $(elapsed "$t0" "$t1") s ($(awk -v n="$ok" -v t="$(elapsed "$t0" "$t1")" 'BEGIN{printf "%.0f", n/t}') per second, $ok answered 200), supernode CPU $(elapsed "$c0" "$c1") s."
echo
echo "${DL_LINE:-}"
