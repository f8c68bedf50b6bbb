#!/usr/bin/env bash
# The uploader's serving cost, against the published bin/dfget: `dfget server` with a registered 256 MiB task file,
# read by curl as 64 wrapped pieces of 4 MiB on one keep-alive connection (as a peer fetches them), four times = 1 GiB.
# Prints the uploader's CPU seconds per GiB served and the wall time, as a markdown section (appended to
# docs/benchmarks.md by build.sh bench). BENCH_REPS (default 3) repetitions, each with a fresh uploader.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
REPS="${BENCH_REPS:-3}"
WORK="$(mktemp -d /tmp/dragonfly-upbench.XXXXXX)"
# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"
trap 'stop_work "$WORK" ""' EXIT

PIECE=$((4 * 1024 * 1024))
NAME=bench.bin-4242-1795238008.142
mkdir -p "$WORK/data"
head -c $((256 * 1024 * 1024)) /dev/urandom > "$WORK/data/$NAME.service"

: > "$WORK/cpu.txt"; : > "$WORK/wall.txt"
for rep in $(seq 1 "$REPS"); do
  port=$(free_port); home="$WORK/home-$rep"; mkdir -p "$home/meta"
  "$BIN/dfget" server --ip 127.0.0.1 --port "$port" --meta "$home/meta/host.meta" --data "$WORK/data" --home "$home" \
    --expiretime 10m --alivetime 10m > "$WORK/server-$rep.log" 2>&1 &
  wait_http "http://127.0.0.1:$port/server/ping"
  pid=$(pgrep -f "dfget server .*--port $port " | head -1)
  curl -fsS -o /dev/null -H "dataDir: $WORK/data" "http://127.0.0.1:$port/check/$NAME"
  args=()
  for n in $(seq 0 63); do
    s=$((n * PIECE))
    args+=(-H "Range: bytes=$s-$((s + PIECE - 1))" -H "pieceNum: $n" -H "pieceSize: $PIECE" -o /dev/null "http://127.0.0.1:$port/peer/file/$NAME" --next)
  done
  args+=(-o /dev/null "http://127.0.0.1:$port/server/ping")
  curl -fsS "${args[@]}" # warm-up: the first 256 MiB
  c0=$(cpu_of "$pid"); t0=$(now)
  for _ in 1 2 3 4; do curl -fsS "${args[@]}"; done
  c1=$(cpu_of "$pid"); t1=$(now)
  elapsed "$c0" "$c1" >> "$WORK/cpu.txt"; echo >> "$WORK/cpu.txt"
  elapsed "$t0" "$t1" >> "$WORK/wall.txt"; echo >> "$WORK/wall.txt"
  kill "$pid"; for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done

echo "## Uploader"
echo
echo "Measured by \`eng/bench-uploader.sh\` on $(date -u +%F) at commit \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)\`, $(nproc) cores: \`dfget server\` serving 1 GiB as 256 wrapped 4 MiB pieces on keep-alive connections to curl, medians of $REPS (min–max)."
echo
echo "| uploader CPU-s per GiB served | wall s per GiB |"
echo "| --- | --- |"
echo "| $(grep . "$WORK/cpu.txt" | median_spread) | $(grep . "$WORK/wall.txt" | median_spread) |"
