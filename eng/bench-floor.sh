#!/usr/bin/env bash
# The floor of L1 and L4 on this machine: what the work the protocol itself requires costs, done with the cheapest
# tools at hand, so that the measured figures and BENCHMARKS.md's targets can be read against it. Prints a markdown
# section (eng/bench.sh appends it to docs/benchmarks.md).
#   transfers  curl fetching S into a new file from nginx (sendfile), as many as the scenario moves over HTTP: the
#              CDN's one fetch from the origin, then one per client (L4: four at once), each right after the last,
#              as in the bench; curl's and nginx's CPU
#   md5        the CDN's piece and file md5 over S in one paired pass, and each client's piece md5s and file md5
#              (two streams over S) on one batcher: CPU per GiB per stream from `Dragonfly.Benchmarks md5-cost`,
#              run with thread-pool spinning off, the cheapest way this project found to run it
#   start-up   `dfget version` (the least a dfget process costs) for every dfget process the scenario starts
#              (a download and its uploader per client); the supernode's start is outside the bench's figures
# Left out, so the floor is lower than any real run: wrapping pieces (nginx sends the file as it is), the
# registration and the pull loop, the reports, logging, the uploaders' and supernode's HTTP stacks.
# Knobs: BENCH_REPS (3), BENCH_SIZE_MIB (256), DRAGONFLY_BIN (bin/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
REPS="${BENCH_REPS:-3}"
SIZE_MIB="${BENCH_SIZE_MIB:-256}"
WORK="$(mktemp -d /tmp/dragonfly-floor.XXXXXX)"
PIDS=()

# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"
cleanup() { stop_work "$WORK" "" "${PIDS[@]}"; }
trap cleanup EXIT

[ -x /usr/bin/time ] || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 1; }

PORT=$(free_port)
ORIGIN_PID=$(start_origin "$WORK" "$PORT"); PIDS+=("$ORIGIN_PID")
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/www/f.bin"
mkdir -p "$WORK/out"

nginx_cpu() { # CPU seconds of the origin's master and workers
  local sum=0 p
  for p in "$ORIGIN_PID" $(pgrep -P "$ORIGIN_PID" || true); do sum=$(awk -v a="$sum" -v b="$(cpu_of "$p")" 'BEGIN { print a + b }'); done
  echo "$sum"
}
fetch() { # curl into a new file under /usr/bin/time; leaves "user sys" in $WORK/t.$1
  /usr/bin/time -f "%U %S" -o "$WORK/t.$1" curl -fsS -o "$WORK/out/$1" "http://127.0.0.1:$PORT/f.bin"
}
cpu_of_fetches() { cat "$@" | awk '{ s += $1 + $2 } END { printf "%.3f", s }'; }
l1=(); l4=()
for _ in $(seq 1 "$REPS"); do
  n0=$(nginx_cpu); fetch cdn; fetch c1; n1=$(nginx_cpu)
  l1+=("$(awk -v c="$(cpu_of_fetches "$WORK/t.cdn" "$WORK/t.c1")" -v a="$n0" -v b="$n1" 'BEGIN { print c + b - a }')")
  rm -f "$WORK/out"/*
  n0=$(nginx_cpu); fetch cdn
  for i in 1 2 3 4; do fetch "c$i" & done; wait
  n1=$(nginx_cpu)
  l4+=("$(awk -v c="$(cpu_of_fetches "$WORK"/t.cdn "$WORK"/t.c[1-4])" -v a="$n0" -v b="$n1" 'BEGIN { print c + b - a }')")
  rm -f "$WORK/out"/*
done
T1=$(printf '%s\n' "${l1[@]}" | median); T4=$(printf '%s\n' "${l4[@]}" | median)

declare -A MD5
while read -r name cost; do MD5[$name]=$cost; done < <(DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 dotnet run -c Release --project "$ROOT/bench/Dragonfly.Benchmarks" -- md5-cost "$SIZE_MIB" 5 2>/dev/null | grep -E '^[a-z_0-9]+ [0-9.]+$')
for k in one_stream pair_same_bytes batched_2_streams batched_4_streams; do
  [ -n "${MD5[$k]:-}" ] || { echo "md5-cost did not report $k" >&2; exit 1; }
done

starts=()
for _ in 1 2 3 4 5; do
  /usr/bin/time -f "%U %S" -o "$WORK/t.start" "$BIN/dfget" version > /dev/null
  starts+=("$(awk '{ print $1 + $2 }' "$WORK/t.start")")
done
START=$(printf '%s\n' "${starts[@]}" | median)

awk -v s="$SIZE_MIB" -v t1="$T1" -v t4="$T4" -v one="${MD5[one_stream]}" -v pair="${MD5[pair_same_bytes]}" \
    -v b2="${MD5[batched_2_streams]}" -v b4="${MD5[batched_4_streams]}" -v st="$START" -v reps="$REPS" 'BEGIN {
  g = s / 1024
  cdn = 2 * g * pair
  h1 = cdn + 2 * g * b2;  c1 = t1 + h1 + 2 * st
  h4 = cdn + 8 * g * b4;  c4 = t4 + h4 + 8 * st
  printf "## Floor: the work the protocol requires, at its cheapest on this machine\n\n"
  printf "`eng/bench-floor.sh`: the transfers done by curl from nginx (medians of %d), the md5s by this project%s best hashing\n", reps, "\x27s"
  printf "(`Dragonfly.Benchmarks md5-cost`: CPU-s per GiB per stream %.2f for one stream, %.2f for two over the same bytes,\n", one, pair
  printf "%.2f and %.2f for two and four streams on one batcher), and a dfget process%s least start-up (`dfget version`). No\n", b2, b4, "\x27s"
  printf "piece wrapping, no protocol messages, no logging: any real run costs more.\n\n"
  printf "| CPU seconds | L1 (one client) | L4 (four clients) |\n| --- | --- | --- |\n"
  printf "| transfers: origin to CDN, CDN to each client, into new files | %.2f | %.2f |\n", t1, t4
  printf "| md5: the CDN%ss piece and file md5 over S, paired | %.2f | %.2f |\n", "\x27", cdn, cdn
  printf "| md5: each client%ss piece md5s and file md5 | %.2f | %.2f |\n", "\x27", 2 * g * b2, 8 * g * b4
  printf "| start-up: a download and an uploader per client | %.2f | %.2f |\n", 2 * st, 8 * st
  printf "| **total** | **%.2f** | **%.2f** |\n", c1, c4
  printf "| per GiB delivered | | **%.2f** (target 3.0) |\n", c4 / (4 * g)
  printf "| wall on 2 cores, if every core were busy all the time | %.2f s (target 0.9) | %.2f s (target 1.8) |\n\n", c1 / 2, c4 / 2
  printf "One md5 chain over S (the client%ss file md5, which must follow the pieces in file order) alone takes %.2f s.\n", "\x27", g * one
}'
