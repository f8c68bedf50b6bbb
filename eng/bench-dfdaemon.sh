#!/usr/bin/env bash
# dfdaemon figures asked for by the dfdaemon issue: a 256 MiB layer (one-layer image built with umoci, pushed into
# Debian's docker-registry) pulled by skopeo directly, and through dfdaemon with a cold and a warm supernode cache,
# the warm pulls both by a dfdaemon just started and by one that has served another (1 MiB) image first, as a running
# mirror has; plus time to first byte against total time for the layer blob itself (curl), which shows the streaming.
# Prints a markdown section (appended to docs/benchmarks.md by build.sh bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${DRAGONFLY_BIN:-$ROOT/bin}"
REPS="${BENCH_REPS:-3}"
LAYER_MIB="${BENCH_LAYER_MIB:-256}"
WORK="$(mktemp -d /tmp/dragonfly-ddbench.XXXXXX)"
PIDS=()
# shellcheck source=eng/lib.sh
. "$ROOT/eng/lib.sh"
cleanup() { stop_work "$WORK" "" "${PIDS[@]}"; }
trap cleanup EXIT
for t in docker-registry skopeo umoci; do command -v "$t" >/dev/null || { echo "$t is required" >&2; exit 1; }; done

REG=$(free_port)
cat > "$WORK/registry.yml" <<YML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $WORK/store } }
http: { addr: 127.0.0.1:$REG }
YML
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$REG/v2/" any

echo "==> building a one-layer image with a ${LAYER_MIB} MiB layer" >&2
umoci init --layout "$WORK/oci" && umoci new --image "$WORK/oci:big"
umoci unpack --rootless --image "$WORK/oci:big" "$WORK/bundle" >/dev/null
head -c $((LAYER_MIB * 1024 * 1024)) /dev/urandom > "$WORK/bundle/rootfs/layer.bin"
umoci repack --image "$WORK/oci:big" "$WORK/bundle" && rm -rf "$WORK/bundle"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/oci:big" "docker://127.0.0.1:$REG/bench/big:1"
# A second, small image: what a running dfdaemon has served before the measured pull.
umoci new --image "$WORK/oci:small" && umoci unpack --rootless --image "$WORK/oci:small" "$WORK/bundle" >/dev/null
head -c $((1024 * 1024)) /dev/urandom > "$WORK/bundle/rootfs/small.bin"
umoci repack --image "$WORK/oci:small" "$WORK/bundle" && rm -rf "$WORK/bundle"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/oci:small" "docker://127.0.0.1:$REG/bench/small:1"
LAYER=$(python3 - "$WORK/oci" <<'PY'
import json, sys, os
root = sys.argv[1]
m = json.load(open(os.path.join(root, "index.json")))["manifests"][0]["digest"].split(":")[1]
man = json.load(open(os.path.join(root, "blobs", "sha256", m)))
print(max(man["layers"], key=lambda l: l["size"])["digest"])
PY
)

SN=$(free_port); DL=$(free_port)
"$BIN/supernode" --home-dir "$WORK/sn" --advertise-ip 127.0.0.1 --port "$SN" --download-port "$DL" > "$WORK/sn.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$SN/_ping" any

DD_PID=""; DD_PORT=""
start_dfdaemon() {
  DD_PORT=$(free_port)
  "$BIN/dfdaemon" --port "$DD_PORT" --registry "http://127.0.0.1:$REG" --node "127.0.0.1:$SN" --workHome "$WORK/dd-$1" \
    --ratelimit 1G > "$WORK/dd-$1.log" 2>&1 &
  DD_PID=$!; PIDS+=("$DD_PID"); wait_http "http://127.0.0.1:$DD_PORT/v2/" any
}
stop_dfdaemon() { pkill -f "dfget server .*$WORK/dd-$1" 2>/dev/null || true; kill "$DD_PID" 2>/dev/null || true; wait "$DD_PID" 2>/dev/null || true; }
pull() { # registry-host:port dest [image] -> seconds
  local t0 t1; rm -rf "$2"; t0=$(now)
  skopeo copy -q --src-tls-verify=false "docker://$1/bench/${3:-big}:1" "oci:$2:big" >/dev/null
  t1=$(now); elapsed "$t0" "$t1" 2
}

for rep in $(seq 1 "$REPS"); do pull "127.0.0.1:$REG" "$WORK/out-direct" >> "$WORK/direct.txt"; echo >> "$WORK/direct.txt"; done
start_dfdaemon cold; pull "127.0.0.1:$DD_PORT" "$WORK/out-cold" > "$WORK/cold.txt"; stop_dfdaemon cold
for rep in $(seq 1 "$REPS"); do
  start_dfdaemon "warm$rep"; pull "127.0.0.1:$DD_PORT" "$WORK/out-warm" >> "$WORK/warm.txt"; echo >> "$WORK/warm.txt"; stop_dfdaemon "warm$rep"
done
for rep in $(seq 1 "$REPS"); do
  start_dfdaemon "run$rep"; pull "127.0.0.1:$DD_PORT" "$WORK/out-small" small > /dev/null
  pull "127.0.0.1:$DD_PORT" "$WORK/out-warm" >> "$WORK/running.txt"; echo >> "$WORK/running.txt"; stop_dfdaemon "run$rep"
done
# the pulled layer must be the pushed one
[ -f "$WORK/out-warm/blobs/sha256/${LAYER#sha256:}" ] || { echo "layer missing from the pull through dfdaemon" >&2; exit 1; }
[ "$(sha256sum "$WORK/out-warm/blobs/sha256/${LAYER#sha256:}" | cut -d' ' -f1)" = "${LAYER#sha256:}" ] || { echo "WRONG LAYER" >&2; exit 1; }

for rep in $(seq 1 "$REPS"); do
  curl -sS -o /dev/null -w '%{time_starttransfer} %{time_total}\n' "http://127.0.0.1:$REG/v2/bench/big/blobs/$LAYER" >> "$WORK/ttfb-direct.txt"
  start_dfdaemon "blob$rep"
  curl -sS -o /dev/null -w '%{time_starttransfer} %{time_total}\n' "http://127.0.0.1:$DD_PORT/v2/bench/big/blobs/$LAYER" >> "$WORK/ttfb-dd.txt"
  stop_dfdaemon "blob$rep"
done

echo "## dfdaemon"
echo
echo "Measured by \`eng/bench-dfdaemon.sh\` on $(date -u +%F): one ${LAYER_MIB} MiB layer, skopeo copy to an oci: layout; medians of $REPS (min–max)."
echo
echo "| pull | skopeo wall s |"
echo "| --- | --- |"
echo "| directly from the registry | $(grep . "$WORK/direct.txt" | median_spread) |"
echo "| through dfdaemon, cold supernode cache | $(cat "$WORK/cold.txt") |"
echo "| through dfdaemon, warm supernode cache (new dfdaemon home) | $(grep . "$WORK/warm.txt" | median_spread) |"
echo "| through dfdaemon, warm supernode cache (running dfdaemon: new home, one other image pulled first) | $(grep . "$WORK/running.txt" | median_spread) |"
echo
echo "| layer blob by curl | time to first byte s | total s |"
echo "| --- | --- | --- |"
echo "| directly from the registry | $(cut -d' ' -f1 "$WORK/ttfb-direct.txt" | median_spread) | $(cut -d' ' -f2 "$WORK/ttfb-direct.txt" | median_spread) |"
echo "| through dfdaemon, warm cache | $(cut -d' ' -f1 "$WORK/ttfb-dd.txt" | median_spread) | $(cut -d' ' -f2 "$WORK/ttfb-dd.txt" | median_spread) |"
