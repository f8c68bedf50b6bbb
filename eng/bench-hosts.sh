#!/usr/bin/env bash
# Whole-system benchmark on emulated hosts (BENCHMARKS.md topology 2): one network namespace per host, all joined by a
# bridge in a switch namespace, each link capped with tc tbf. The origin's uplink is the bottleneck, as in production.
#
#   eng/bench-hosts.sh          B1: 200 MiB to N ∈ {1,2,4,8,16} peers; origin up 200 Mbit/s, peers 100 Mbit/s up and
#                               down, supernode 1 Gbit/s; P2P (dfget) against N direct curls from the same hosts.
#                               Then B3: the same at N = 8 with one peer starting every 5 s (staggered arrivals).
#                               Then B2: 8 peers each pull two files (64 and 256 MiB) at once, every peer link at
#                               200 Mbit/s up and down: each peer's time against what its link allows (Kraken's measure).
#                               BENCHMARKS.md gives the downlink; the uplink matches it (as in Kraken's setup) because
#                               at 100 Mbit/s up the swarm's own bound, N·S/(C_o + Σu) = 21.5 s, would already exceed
#                               the target of 1.5 · S/d = 20.1 s.
#   eng/bench-hosts.sh --ci     the CI-sized variant: N ∈ {1,4}, 32 MiB, P2P only. Checks every copy's md5, that the
#                               origin served at most 1.05·S and that every peer's byte accounting adds up to S; asserts
#                               no timing. Exits non-zero when a check fails.
#
# Knobs: BENCH_HOSTS_NS (peer counts; "none" skips B1), BENCH_HOSTS_MIB (file size), BENCH_HOSTS_DIRECT (1: also run the curl baseline),
# BENCH_HOSTS_OUT (JSON lines of every run; default docs/benchmarks/hosts.json, or $WORK's copy under --ci),
# BENCH_HOSTS_REPS (1), BENCH_HOSTS_PLOTS (folder for the PNGs; default docs/benchmarks, none under --ci),
# BENCH_HOSTS_KEEP (keep the work folder with every log), BENCH_HOSTS_B3 (1, 0 under --ci), BENCH_HOSTS_B3_N (8),
# BENCH_HOSTS_B3_STAGGER (5 s), BENCH_HOSTS_B2 (1, 0 under --ci), BENCH_HOSTS_B2_N (8), BENCH_HOSTS_B2_MIB ("64 256"),
# BENCH_HOSTS_B2_MBIT (200, each B2 peer's link both ways), BENCH_HOSTS_SUPERNODE_ARGS (extra supernode flags, e.g. "--cdn-load-limit 16"),
# DRAGONFLY_BIN (bin/). A partial run (one scenario, say) should set BENCH_HOSTS_OUT and BENCH_HOSTS_PLOTS elsewhere:
# by default it replaces docs/benchmarks/hosts.json and, when it ran B1, the B1 plots.
# Needs root (ip netns), iproute2's tc, nginx and curl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
CI=0; [ "${1:-}" = "--ci" ] && CI=1
if [ "$CI" = 1 ]; then
  read -r -a NS_LIST <<< "${BENCH_HOSTS_NS:-1 4}"; SIZE_MIB="${BENCH_HOSTS_MIB:-32}"; DIRECT="${BENCH_HOSTS_DIRECT:-0}"
else
  read -r -a NS_LIST <<< "${BENCH_HOSTS_NS:-1 2 4 8 16}"; SIZE_MIB="${BENCH_HOSTS_MIB:-200}"; DIRECT="${BENCH_HOSTS_DIRECT:-1}"
fi
[ "${NS_LIST[*]}" = none ] && NS_LIST=()
read -r -a SUPERNODE_ARGS <<< "${BENCH_HOSTS_SUPERNODE_ARGS:-}"
B3="${BENCH_HOSTS_B3:-$((1 - CI))}"; B3_N="${BENCH_HOSTS_B3_N:-8}"; B3_STAGGER="${BENCH_HOSTS_B3_STAGGER:-5}"
B2="${BENCH_HOSTS_B2:-$((1 - CI))}"; B2_N="${BENCH_HOSTS_B2_N:-8}"; B2_MBIT="${BENCH_HOSTS_B2_MBIT:-200}"
read -r -a B2_MIB <<< "${BENCH_HOSTS_B2_MIB:-64 256}"
ORIGIN_UP_MBIT=200; PEER_MBIT=100; SUPERNODE_MBIT=1000
S=$((SIZE_MIB * 1024 * 1024))
WORK="$(mktemp -d /tmp/dragonfly-hosts.XXXXXX)"; chmod 755 "$WORK"   # nginx's workers run unprivileged
OUT="${BENCH_HOSTS_OUT:-}"; [ -n "$OUT" ] || { [ "$CI" = 1 ] && OUT="$WORK/hosts.json" || OUT="$ROOT/docs/benchmarks/hosts.json"; }
TAG="df$$"                      # namespace prefix, unique per run
SW="$TAG-sw"
NAMESPACES=()
PIDS=()

# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"
log() { echo "hosts: $*" >&2; }

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "${NAMESPACES[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  wait 2>/dev/null || true
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  [ -n "${BENCH_HOSTS_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench-hosts needs root for network namespaces" >&2; exit 2; }
command -v tc >/dev/null || { echo "tc is required (apt-get install iproute2)" >&2; exit 2; }

# ---- topology ---------------------------------------------------------------------------------------------------
ip netns add "$SW"; NAMESPACES+=("$SW")
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
ip -n "$SW" link set lo up

# shape DEV in NS to RATE Mbit/s on egress (burst sized for veth's 64 KiB segments).
shape() { ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "${3}mbit" burst 256kb latency 100ms; }

# add_host NAME ADDR UP_MBIT DOWN_MBIT: a namespace with eth0 at ADDR/24 on the bridge; uplink shaped on the host's side,
# downlink on the switch's side of the pair.
add_host() {
  local ns="$TAG-$1" port="p-$1"
  ip netns add "$ns"; NAMESPACES+=("$ns")
  ip -n "$SW" link add "$port" type veth peer name eth0 netns "$ns"
  ip -n "$SW" link set "$port" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$2/24" dev eth0
  ip -n "$ns" link set eth0 up
  shape "$ns" eth0 "$3"
  shape "$SW" "$port" "$4"
}

ORIGIN_IP=10.77.0.2; SN_IP=10.77.0.3
add_host origin "$ORIGIN_IP" "$ORIGIN_UP_MBIT" 1000
add_host sn "$SN_IP" "$SUPERNODE_MBIT" "$SUPERNODE_MBIT"
MAX_N=0; for n in "${NS_LIST[@]}"; do [ "$n" -gt "$MAX_N" ] && MAX_N=$n; done
[ "$B3" = 1 ] && [ "$B3_N" -gt "$MAX_N" ] && MAX_N=$B3_N
[ "$B2" = 1 ] && [ "$B2_N" -gt "$MAX_N" ] && MAX_N=$B2_N
for i in $(seq 1 "$MAX_N"); do add_host "p$i" "10.77.0.$((10 + i))" "$PEER_MBIT" "$PEER_MBIT"; done
log "$((MAX_N + 2)) hosts: origin ${ORIGIN_UP_MBIT} Mbit/s up, peers ${PEER_MBIT} Mbit/s up/down, supernode ${SUPERNODE_MBIT} Mbit/s"

# ---- origin -----------------------------------------------------------------------------------------------------
ORIGIN_PID=$(start_origin "$WORK/origin" 80 "$ORIGIN_IP" "$TAG-origin"); PIDS+=("$ORIGIN_PID")
head -c "$S" /dev/urandom > "$WORK/origin/www/f.bin"
MD5=$(md5sum "$WORK/origin/www/f.bin" | cut -d' ' -f1)
URL="http://$ORIGIN_IP/f.bin"
# origin_bytes [PATH...]: body bytes the origin served for these paths (/f.bin by default).
origin_bytes() {
  awk -v paths="${*:-/f.bin}" 'BEGIN { n = split(paths, p, " "); for (i = 1; i <= n; i++) want[p[i]] = 1 }
    ($4 in want) { s += $2 } END { printf "%.0f\n", s }' "$WORK/origin/access.log"
}
B2_FILES=(); B2_SIZES=(); B2_MD5S=(); B2_TOTAL=0
if [ "$B2" = 1 ]; then
  for mib in "${B2_MIB[@]}"; do
    head -c $((mib * 1024 * 1024)) /dev/urandom > "$WORK/origin/www/b2-$mib.bin"
    B2_FILES+=("/b2-$mib.bin"); B2_SIZES+=($((mib * 1024 * 1024))); B2_TOTAL=$((B2_TOTAL + mib * 1024 * 1024))
    B2_MD5S+=("$(md5sum "$WORK/origin/www/b2-$mib.bin" | cut -d' ' -f1)")
  done
fi

# ---- one run ----------------------------------------------------------------------------------------------------
FAILED=0
fail() { log "FAILED: $*"; FAILED=1; }
: > "$WORK/runs.jsonl"

# on_peers N RUN FN: runs "FN i RUN" for the peers 1..N at once; each writes "exit-code seconds" to RUN/done-i.
# Prints the makespan.
# on_peers N RUN FN [STAGGER]: runs FN i RUN on every peer host, peer i starting (i-1)·STAGGER seconds after the first;
# writes "<exit code> <seconds from its own start>" to RUN/done-i and prints the makespan from the first start.
on_peers() {
  local n=$1 run=$2 fn=$3 stagger=${4:-0} t0 pids=() i
  t0=$(now)
  for i in $(seq 1 "$n"); do
    ( sleep $(( (i - 1) * stagger )); s=$(now); "$fn" "$i" "$run"; echo "$? $(elapsed "$s" "$(now)")" > "$run/done-$i" ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  elapsed "$t0" "$(now)"
}

# start_supernode RUN: a fresh supernode on its host with its home in RUN; sets SN_PID.
start_supernode() {
  ip netns exec "$TAG-sn" "$BIN/supernode" --home-dir "$1/sn" --advertise-ip "$SN_IP" --port 8002 --download-port 8001 \
    --max-bandwidth 100G "${SUPERNODE_ARGS[@]}" > "$1/sn.log" 2>&1 &
  SN_PID=$!; PIDS+=("$SN_PID")
  wait_http_in "$TAG-sn" http://127.0.0.1:8002/_ping
}

# stop_p2p N: stops the supernode and whatever still runs on the peer hosts 1..N (their uploaders).
stop_p2p() {
  kill "$SN_PID" 2>/dev/null || true; wait "$SN_PID" 2>/dev/null || true
  local i; for i in $(seq 1 "$1"); do ip netns pids "$TAG-p$i" | xargs -r kill 2>/dev/null || true; done
}

# accounting LOG: dfget's "from peers: X B, from supernode: Y B, from origin: Z B" as "X Y Z" (nothing when absent).
accounting() { sed -n 's/^from peers: \([0-9]*\) B, from supernode: \([0-9]*\) B, from origin: \([0-9]*\) B$/\1 \2 \3/p' "$1"; }

# check_copy LABEL OUT MD5 [LOG SIZE]: the copy's md5 and, given its dfget log, that the byte accounting adds up to
# SIZE; adds that accounting to the caller's peers/sn_bytes/origin_direct and clears the caller's ok on a failure.
check_copy() {
  local label=$1 out=$2 md5=$3 log=${4:-} size=${5:-} fp= fs= fo=
  [ "$(md5sum "$out" | cut -d' ' -f1)" = "$md5" ] || { fail "$label: wrong md5"; ok=0; }
  [ -n "$log" ] || return 0
  read -r fp fs fo < <(accounting "$log") || true
  [ -n "$fp" ] || { fail "$label: no byte-accounting line"; ok=0; return 0; }
  [ $((fp + fs + fo)) = "$size" ] || { fail "$label: accounting $fp+$fs+$fo != $size"; ok=0; }
  peers=$((peers + fp)); sn_bytes=$((sn_bytes + fs)); origin_direct=$((origin_direct + fo))
}

# check_egress LABEL BYTES SIZE: the origin served at most 1.05 · SIZE.
check_egress() { awk -v e="$2" -v s="$3" 'BEGIN { exit !(e <= 1.05 * s) }' || fail "$1: origin served $2 bytes (> 1.05·S)"; }

# p2p N REP [STAGGER]: a fresh supernode, N dfgets one per peer host, started together (B1) or STAGGER s apart (B3).
p2p() {
  local n=$1 rep=$2 stagger=${3:-0} scenario=B1 run="$WORK/p2p-$1-$2-${3:-0}"
  [ "$stagger" = 0 ] || scenario=B3
  mkdir -p "$run"; : > "$WORK/origin/access.log"
  start_supernode "$run"
  fetch_dfget() {
    ip netns exec "$TAG-p$1" "$BIN/dfget" -u "$URL" -o "$2/out-$1" --home "$2/home-$1" -n "$SN_IP:8002" \
      -s 100G --totallimit 100G --alivetime 20s > "$2/dfget-$1.log" 2>&1
  }
  local makespan i; makespan=$(on_peers "$n" "$run" fetch_dfget "$stagger")
  local times=() peers=0 sn_bytes=0 origin_direct=0 ok=1
  for i in $(seq 1 "$n"); do
    read -r code secs < "$run/done-$i"; times+=("$secs")
    [ "$code" = 0 ] || { fail "p2p N=$n peer $i exited $code: $(tail -3 "$run/dfget-$i.log" | tr '\n' ' ')"; ok=0; continue; }
    check_copy "p2p N=$n peer $i" "$run/out-$i" "$MD5" "$run/dfget-$i.log" "$S"
  done
  local egress; egress=$(origin_bytes)
  check_egress "p2p N=$n" "$egress" "$S"
  stop_p2p "$n"
  echo "{\"scenario\":\"$scenario\",\"kind\":\"p2p\",\"n\":$n,\"rep\":$rep,\"stagger\":$stagger,\"size\":$S,\"makespan\":$makespan,\"peer_times\":[$(IFS=,; echo "${times[*]}")],\"origin_bytes\":$egress,\"from_peers\":$peers,\"from_supernode\":$sn_bytes,\"from_origin\":$origin_direct,\"ok\":$ok}" >> "$WORK/runs.jsonl"
  log "$scenario p2p N=$n rep $rep: makespan ${makespan}s, origin $egress B, from peers $peers B, from supernode $sn_bytes B"
}

# direct N REP [STAGGER]: N curls from the peer hosts straight to the origin, together or STAGGER s apart.
direct() {
  local n=$1 rep=$2 stagger=${3:-0} scenario=B1 run="$WORK/direct-$1-$2-${3:-0}"
  [ "$stagger" = 0 ] || scenario=B3
  mkdir -p "$run"; : > "$WORK/origin/access.log"
  fetch_curl() { ip netns exec "$TAG-p$1" curl -fsS -o "$2/out-$1" "$URL"; }
  local makespan times=() i; makespan=$(on_peers "$n" "$run" fetch_curl "$stagger")
  for i in $(seq 1 "$n"); do read -r code secs < "$run/done-$i"; times+=("$secs"); [ "$code" = 0 ] || fail "direct N=$n curl $i exited $code"; done
  rm -rf "$run"
  echo "{\"scenario\":\"$scenario\",\"kind\":\"direct\",\"n\":$n,\"rep\":$rep,\"stagger\":$stagger,\"size\":$S,\"makespan\":$makespan,\"peer_times\":[$(IFS=,; echo "${times[*]}")],\"origin_bytes\":$(origin_bytes),\"ok\":1}" >> "$WORK/runs.jsonl"
  log "$scenario direct N=$n rep $rep: makespan ${makespan}s"
}

REPS="${BENCH_HOSTS_REPS:-1}"
for n in "${NS_LIST[@]}"; do
  for rep in $(seq 1 "$REPS"); do
    p2p "$n" "$rep"
    [ "$DIRECT" = 1 ] && direct "$n" "$rep"
  done
done

# B3: staggered arrivals, B1 at N = B3_N with one peer starting every B3_STAGGER seconds.
if [ "$B3" = 1 ]; then
  for rep in $(seq 1 "$REPS"); do
    p2p "$B3_N" "$rep" "$B3_STAGGER"
    [ "$DIRECT" = 1 ] && direct "$B3_N" "$rep" "$B3_STAGGER"
  done
fi

# b2 KIND REP: B2, every peer 1..B2_N pulling all the B2 files at once (one dfget per file sharing the peer's home, or
# one curl per file); a peer's time is until its last file is done.
b2() {
  local kind=$1 rep=$2 run="$WORK/b2-$1-$2" n=$B2_N
  mkdir -p "$run"; : > "$WORK/origin/access.log"
  [ "$kind" = direct ] || start_supernode "$run"
  fetch_b2() {
    local j pids=() rc=0
    for j in "${!B2_FILES[@]}"; do
      if [ "$kind" = direct ]; then
        ip netns exec "$TAG-p$1" curl -fsS -o "$2/out-$1-$j" "http://$ORIGIN_IP${B2_FILES[$j]}" &
      else
        ip netns exec "$TAG-p$1" "$BIN/dfget" -u "http://$ORIGIN_IP${B2_FILES[$j]}" -o "$2/out-$1-$j" --home "$2/home-$1" \
          -n "$SN_IP:8002" -s 100G --totallimit 100G --alivetime 20s > "$2/dfget-$1-$j.log" 2>&1 &
      fi
      pids+=($!)
    done
    for j in "${pids[@]}"; do wait "$j" || rc=1; done
    return $rc
  }
  local makespan times=() peers=0 sn_bytes=0 origin_direct=0 ok=1 i j code secs
  makespan=$(on_peers "$n" "$run" fetch_b2)
  for i in $(seq 1 "$n"); do
    read -r code secs < "$run/done-$i"; times+=("$secs")
    [ "$code" = 0 ] || { fail "B2 $kind peer $i: a download failed"; ok=0; continue; }
    for j in "${!B2_FILES[@]}"; do
      if [ "$kind" = direct ]; then
        check_copy "B2 direct peer $i ${B2_FILES[$j]}" "$run/out-$i-$j" "${B2_MD5S[$j]}"
      else
        check_copy "B2 p2p peer $i ${B2_FILES[$j]}" "$run/out-$i-$j" "${B2_MD5S[$j]}" "$run/dfget-$i-$j.log" "${B2_SIZES[$j]}"
      fi
    done
  done
  local egress; egress=$(origin_bytes "${B2_FILES[@]}")
  if [ "$kind" = p2p ]; then
    check_egress "B2 p2p" "$egress" "$B2_TOTAL"
    stop_p2p "$n"
  fi
  rm -f "$run"/out-*
  echo "{\"scenario\":\"B2\",\"kind\":\"$kind\",\"n\":$n,\"rep\":$rep,\"size\":$B2_TOTAL,\"files\":[$(IFS=,; echo "${B2_SIZES[*]}")],\"link_mbit\":$B2_MBIT,\"makespan\":$makespan,\"peer_times\":[$(IFS=,; echo "${times[*]}")],\"origin_bytes\":$egress,\"from_peers\":$peers,\"from_supernode\":$sn_bytes,\"from_origin\":$origin_direct,\"ok\":$ok}" >> "$WORK/runs.jsonl"
  log "B2 $kind rep $rep: makespan ${makespan}s, per-peer $(IFS=' '; echo "${times[*]}") s, origin $egress B, from peers $peers B"
}

# B2: the peers' links at B2_MBIT both ways for it (last, so B1 and B3 keep theirs).
if [ "$B2" = 1 ]; then
  for i in $(seq 1 "$B2_N"); do shape "$TAG-p$i" eth0 "$B2_MBIT"; shape "$SW" "p-p$i" "$B2_MBIT"; done
  log "B2: peers 1..$B2_N at $B2_MBIT Mbit/s up and down, files ${B2_MIB[*]} MiB"
  for rep in $(seq 1 "$REPS"); do
    b2 p2p "$rep"
    [ "$DIRECT" = 1 ] && b2 direct "$rep"
  done
fi

mkdir -p "$(dirname "$OUT")"
cp "$WORK/runs.jsonl" "$OUT"
# Plots need matplotlib (Debian's python3-matplotlib is for /usr/bin/python3); the CI variant draws none.
PY=python3; /usr/bin/python3 -c 'import matplotlib' 2>/dev/null && PY=/usr/bin/python3
PLOTS=(); [ "$CI" = 1 ] || PLOTS=("${BENCH_HOSTS_PLOTS:-$ROOT/docs/benchmarks}")
[ "${#PLOTS[@]}" = 0 ] || mkdir -p "${PLOTS[0]}"
"$PY" "$ROOT/eng/bench-hosts-report.py" "$OUT" "$ORIGIN_UP_MBIT" "$PEER_MBIT" "${PLOTS[@]}"
if [ "$FAILED" != 0 ]; then
  echo "hosts: some runs failed (see above)" >&2
  exit 1
fi
