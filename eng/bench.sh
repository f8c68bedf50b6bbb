#!/usr/bin/env bash
# Loopback benchmarks of BENCHMARKS.md, with the baselines measured in the same run:
#   L1  one peer, 256 MiB, cold (fresh supernode) and warm (supernode cache warm, new client)   vs curl
#   L4  four peers together, 256 MiB, makespan                                                    vs 4 concurrent curls
#   S1  1 KiB with a warm uploader (dfget start-up latency)
#   BIG two peers, 4 GiB: peak RSS must stay flat (BENCH_BIG=0 skips it)
# plus the scheduler p99 micro benchmark and the floor of L1 and L4 (eng/bench-floor.sh; BENCH_FLOOR=0 skips it).
# Every output's md5 is checked; a wrong file fails the run.
# Results: docs/benchmarks.md (tables) and docs/benchmarks/loopback.json (raw samples).
# Then the supernode, uploader and dfdaemon figures (eng/bench-supernode.sh, eng/bench-uploader.sh, eng/bench-dfdaemon.sh;
# BENCH_COMPONENTS=0 skips them)
# and B1 on emulated hosts with its plots (eng/bench-hosts.sh; BENCH_HOSTS=0 skips it).
# Knobs: BENCH_REPS (3), BENCH_SIZE_MIB (256), BENCH_BIG_MIB (4096), BENCH_BIG (1), DRAGONFLY_BIN (bin/).
# Rate limits are lifted (dfget -s, supernode --max-bandwidth): these scenarios measure software overhead, and the
# original's defaults (20 MB/s per download, 180 MB/s CDN) would measure the limits instead. BENCH_DFGET_ARGS and
# BENCH_SUPERNODE_ARGS override that.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
REPS="${BENCH_REPS:-3}"
SIZE_MIB="${BENCH_SIZE_MIB:-256}"
BIG_MIB="${BENCH_BIG_MIB:-4096}"
WORK="$(mktemp -d /tmp/dragonfly-bench.XXXXXX)"
RAW="$WORK/samples.jsonl"
read -r -a DFGET_ARGS <<< "${BENCH_DFGET_ARGS:--s 100G}"
read -r -a SUPERNODE_ARGS <<< "${BENCH_SUPERNODE_ARGS:---max-bandwidth 100G}"
PIDS=()
: > "$RAW"

# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"
cleanup() { stop_work "$WORK" "" "${PIDS[@]}"; }
trap cleanup EXIT

[ -x /usr/bin/time ] || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 1; }

sample() { echo "$1" >> "$RAW"; }

# ---- origin ---------------------------------------------------------------------------------------------------
ORIGIN_PORT=$(free_port)
ORIGIN_PID=$(start_origin "$WORK" "$ORIGIN_PORT"); PIDS+=("$ORIGIN_PID")
origin_bytes() { awk -v p="/$1" '$4 == p { s += $2 } END { print s + 0 }' "$WORK/access.log"; }

make_file() { head -c "$(( $2 * 1024 * 1024 ))" /dev/urandom > "$WORK/www/$1"; md5sum "$WORK/www/$1" | cut -d' ' -f1; }

# ---- supernode --------------------------------------------------------------------------------------------------
SN_PID=""; SN_PORT=""
start_supernode() {
  SN_PORT=$(free_port); local dl; dl=$(free_port)
  "$BIN/supernode" --home-dir "$WORK/sn-$1" --advertise-ip 127.0.0.1 --port "$SN_PORT" --download-port "$dl" \
    "${SUPERNODE_ARGS[@]}" > "$WORK/sn-$1.log" 2>&1 &
  SN_PID=$!; PIDS+=("$SN_PID")
  wait_http "http://127.0.0.1:$SN_PORT/_ping"
}
stop_supernode() { kill "$SN_PID" 2>/dev/null || true; wait "$SN_PID" 2>/dev/null || true; }

# dfget under /usr/bin/time: prints "wall user sys maxrss_kb exit"
run_dfget() {
  local name=$1 file=$2; shift 2
  /usr/bin/time -f "%e %U %S %M %x" -o "$WORK/$name.time" \
    "$BIN/dfget" -u "http://127.0.0.1:$ORIGIN_PORT/$file" -o "$WORK/out/$name" -n "127.0.0.1:$SN_PORT" \
    --home "${DFGET_HOME:-$WORK/home-$name}" --ip 127.0.0.1 --alivetime 120s "${DFGET_ARGS[@]}" "$@" > "$WORK/$name.out" 2>&1 || true
  cat "$WORK/$name.time" | tail -1
}
uploader_stats() { # cpu seconds and peak RSS (kB) of the uploaders of the given homes, then stop them
  local cpu=0 rss=0
  for home in "$@"; do
    for pid in $(pgrep -f "dfget server .*$home( |$)" || true); do
      cpu=$(awk -v a="$cpu" -v b="$(cpu_of "$pid")" 'BEGIN { printf "%.3f", a + b }')
      local h; h=$(hwm_kb "$pid"); [ "${h:-0}" -gt "$rss" ] && rss=$h
      kill "$pid" 2>/dev/null || true
    done
  done
  echo "$cpu $rss"
}
check_md5() { local got; got=$(md5sum "$WORK/out/$1" 2>/dev/null | cut -d' ' -f1); [ "$got" = "$2" ] || { echo "WRONG FILE $1 ($got != $2)"; cat "$WORK/$1.out"; exit 1; }; }
mkdir -p "$WORK/out"

echo "==> generating ${SIZE_MIB} MiB" >&2
MD5=$(make_file big.bin "$SIZE_MIB")
S=$((SIZE_MIB * 1024 * 1024))

# ---- L1 ---------------------------------------------------------------------------------------------------------
for rep in $(seq 1 "$REPS"); do
  t0=$(now); curl -fsS -o "$WORK/out/curl1" "http://127.0.0.1:$ORIGIN_PORT/big.bin"; t1=$(now)
  check_md5 curl1 "$MD5"; rm -f "$WORK/out/curl1"
  sample "{\"scenario\":\"L1\",\"kind\":\"curl\",\"rep\":$rep,\"wall\":$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')}"

  start_supernode "l1-$rep"; sn_cpu0=$(cpu_of "$SN_PID"); : > "$WORK/access.log"
  for mode in cold warm; do
    name="l1-$rep-$mode"
    read -r wall user sys rss code < <(run_dfget "$name" big.bin)
    [ "$code" = 0 ] || { echo "dfget failed"; cat "$WORK/$name.out"; exit 1; }
    check_md5 "$name" "$MD5"; rm -f "$WORK/out/$name"
    read -r up_cpu up_rss < <(uploader_stats "$WORK/home-$name")
    sample "{\"scenario\":\"L1\",\"kind\":\"dfget-$mode\",\"rep\":$rep,\"wall\":$wall,\"client_cpu\":$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}'),\"client_rss_kb\":$rss,\"uploader_cpu\":$up_cpu,\"uploader_rss_kb\":$up_rss}"
  done
  sn_cpu=$(awk -v a="$sn_cpu0" -v b="$(cpu_of "$SN_PID")" 'BEGIN{print b-a}')
  sample "{\"scenario\":\"L1\",\"kind\":\"supernode\",\"rep\":$rep,\"supernode_cpu\":$sn_cpu,\"supernode_rss_kb\":$(hwm_kb "$SN_PID"),\"origin_bytes\":$(origin_bytes big.bin)}"
  stop_supernode
done

# ---- L4 ---------------------------------------------------------------------------------------------------------
for rep in $(seq 1 "$REPS"); do
  t0=$(now)
  curls=()
  for i in 1 2 3 4; do curl -fsS -o "$WORK/out/curl4-$i" "http://127.0.0.1:$ORIGIN_PORT/big.bin" & curls+=($!); done
  for c in "${curls[@]}"; do wait "$c"; done
  t1=$(now); rm -f "$WORK/out"/curl4-*
  sample "{\"scenario\":\"L4\",\"kind\":\"curl\",\"rep\":$rep,\"wall\":$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')}"

  start_supernode "l4-$rep"; sn_cpu0=$(cpu_of "$SN_PID"); : > "$WORK/access.log"
  t0=$(now); jobs_=()
  for i in 1 2 3 4; do run_dfget "l4-$rep-$i" big.bin > "$WORK/l4-$rep-$i.res" & jobs_+=($!); done
  for j in "${jobs_[@]}"; do wait "$j"; done
  t1=$(now)
  client_cpu=0; client_rss=0
  for i in 1 2 3 4; do
    read -r wall user sys rss code < "$WORK/l4-$rep-$i.res"
    [ "$code" = 0 ] || { echo "dfget failed"; cat "$WORK/l4-$rep-$i.out"; exit 1; }
    check_md5 "l4-$rep-$i" "$MD5"; rm -f "$WORK/out/l4-$rep-$i"
    client_cpu=$(awk -v a="$client_cpu" -v u="$user" -v s="$sys" 'BEGIN{print a+u+s}'); [ "$rss" -gt "$client_rss" ] && client_rss=$rss
  done
  read -r up_cpu up_rss < <(uploader_stats "$WORK/home-l4-$rep-1" "$WORK/home-l4-$rep-2" "$WORK/home-l4-$rep-3" "$WORK/home-l4-$rep-4")
  sn_cpu=$(awk -v a="$sn_cpu0" -v b="$(cpu_of "$SN_PID")" 'BEGIN{print b-a}')
  sample "{\"scenario\":\"L4\",\"kind\":\"dfget\",\"rep\":$rep,\"wall\":$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}'),\"client_cpu\":$client_cpu,\"client_rss_kb\":$client_rss,\"uploader_cpu\":$up_cpu,\"uploader_rss_kb\":$up_rss,\"supernode_cpu\":$sn_cpu,\"supernode_rss_kb\":$(hwm_kb "$SN_PID"),\"origin_bytes\":$(origin_bytes big.bin),\"gib\":$(awk -v s="$S" 'BEGIN{print 4*s/1073741824}')}"
  stop_supernode
done

# ---- S1 ---------------------------------------------------------------------------------------------------------
head -c 1024 /dev/urandom > "$WORK/www/small.bin"; SMD5=$(md5sum "$WORK/www/small.bin" | cut -d' ' -f1)
start_supernode s1
run_dfget s1-warmup small.bin > /dev/null
for rep in $(seq 1 "$REPS"); do
  read -r wall user sys rss code < <(DFGET_HOME="$WORK/home-s1-warmup" run_dfget "s1-$rep" small.bin)
  [ "$code" = 0 ] || { echo "dfget failed"; cat "$WORK/s1-$rep.out"; exit 1; }
  check_md5 "s1-$rep" "$SMD5"
  sample "{\"scenario\":\"S1\",\"kind\":\"dfget\",\"rep\":$rep,\"wall\":$wall,\"client_rss_kb\":$rss}"
done
uploader_stats "$WORK/home-s1-warmup" > /dev/null
stop_supernode

# ---- BIG --------------------------------------------------------------------------------------------------------
if [ "${BENCH_BIG:-1}" = 1 ]; then
  rm -f "$WORK/www/big.bin"
  echo "==> generating ${BIG_MIB} MiB" >&2
  BMD5=$(make_file huge.bin "$BIG_MIB")
  start_supernode big
  for i in 1 2; do
    read -r wall user sys rss code < <(run_dfget "big-$i" huge.bin)
    [ "$code" = 0 ] || { echo "dfget failed"; cat "$WORK/big-$i.out"; exit 1; }
    check_md5 "big-$i" "$BMD5"; rm -f "$WORK/out/big-$i"
    read -r up_cpu up_rss < <(uploader_stats "$WORK/home-big-$i")
    sample "{\"scenario\":\"BIG\",\"kind\":\"dfget\",\"rep\":$i,\"wall\":$wall,\"client_rss_kb\":$rss,\"uploader_rss_kb\":$up_rss,\"supernode_rss_kb\":$(hwm_kb "$SN_PID")}"
  done
  stop_supernode
fi

# ---- scheduler micro benchmark ----------------------------------------------------------------------------------
SCHED=$(dotnet run -c Release --project "$ROOT/bench/Dragonfly.Benchmarks" -- scheduler-p99 20000 2>/dev/null | tail -1 || echo "scheduler bench failed")

python3 "$ROOT/eng/bench-report.py" "$RAW" "$ROOT/docs" "$SIZE_MIB" "$BIG_MIB" "$SCHED"

# ---- the floor of L1 and L4: the protocol's own work at its cheapest (appended to the same report) ----------------
if [ "${BENCH_FLOOR:-1}" = 1 ]; then
  { echo; DRAGONFLY_BIN="$BIN" BENCH_REPS="$REPS" BENCH_SIZE_MIB="$SIZE_MIB" "$ROOT/eng/bench-floor.sh"; } >> "$ROOT/docs/benchmarks.md"
fi

# ---- supernode, uploader and dfdaemon figures (appended to the same report) ----------------------------------------------
if [ "${BENCH_COMPONENTS:-1}" = 1 ]; then
  { echo; DRAGONFLY_BIN="$BIN" "$ROOT/eng/bench-supernode.sh"; echo; DRAGONFLY_BIN="$BIN" "$ROOT/eng/bench-uploader.sh"
    echo; DRAGONFLY_BIN="$BIN" "$ROOT/eng/bench-dfdaemon.sh"; } >> "$ROOT/docs/benchmarks.md"
fi

# ---- emulated hosts (network namespaces, tc): B1 with its plots -------------------------------------------------
if [ "${BENCH_HOSTS:-1}" = 1 ]; then
  { echo; DRAGONFLY_BIN="$BIN" "$ROOT/eng/bench-hosts.sh"; } >> "$ROOT/docs/benchmarks.md"
fi
