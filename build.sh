#!/usr/bin/env bash
# The one entry point for people and CI.
#   ./build.sh          restore, build, publish supernode/dfget/dfdaemon into bin/
#   ./build.sh test     build and run every test project; ends with "N passed, N failed"
#   ./build.sh demo     a local P2P distribution: origin + supernode + 3 dfget peers
#   ./build.sh bench    the benchmarks (BENCHMARKS.md)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONFIG="${CONFIG:-Release}"

log() { printf '==> %s\n' "$*" >&2; }

need_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    log "the .NET SDK 10 is required (dotnet not on PATH)"; exit 1
  fi
}

need_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "installing nodejs/npm (NSwag runs on node)"
    apt_install nodejs npm
  fi
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != "0" ]; then log "missing packages: ${missing[*]} (run as root to install)"; return 1; fi
  if [ $APT_UPDATED -eq 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# NSwag (the npm package: same engine as NSwag.MSBuild) generates the typed client at build time.
need_nswag() {
  need_node
  if [ ! -f "$ROOT/.tools/nswag/node_modules/nswag/bin/nswag.js" ]; then
    log "installing nswag (npm) into .tools/nswag"
    mkdir -p "$ROOT/.tools/nswag"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools/nswag" nswag@14.7.1 >/dev/null
  fi
}

# Tools the end-to-end tests drive for real (registry, image clients, a Range-capable origin).
need_test_tools() {
  apt_install nginx-light curl docker-registry skopeo podman containerd umoci iproute2 || \
    log "warning: some end-to-end tools could not be installed; the tests that need them will fail"
}

# STYLE.md: time comes from TimeProvider, and nothing blocks on async work. BannedApiAnalyzers is not on the feed,
# so the banned APIs are checked here.
check_banned_apis() {
  local hits
  hits=$(grep -rnE 'DateTime(Offset)?\.(Utc)?Now|Thread\.Sleep\(|\.Wait\(\)|GetAwaiter\(\)\.GetResult\(\)' src --include='*.cs' || true)
  if [ -n "$hits" ]; then
    log "banned APIs in src/ (use TimeProvider, await, Task.Delay):"; echo "$hits" >&2; exit 1
  fi
}

build() {
  need_dotnet; need_nswag; check_banned_apis
  log "building Dragonfly.sln ($CONFIG)"
  dotnet build Dragonfly.sln -c "$CONFIG" -nologo -clp:ErrorsOnly -v:q
}

publish() {
  build
  # A fresh bin/ each time: nothing from an earlier layout or build is left beside the programs.
  rm -rf "$ROOT/bin"
  mkdir -p "$ROOT/bin"
  # The supernode and dfdaemon are framework-dependent ReadyToRun and share bin/. dfget is one native executable (Native
  # AOT: Directory.Build.targets, PublishNative), published into a directory of its own with its debug symbols; bin/dfget
  # links to it.
  for p in src/Supernode/Dragonfly.Supernode.csproj src/Dfdaemon/Dragonfly.Dfdaemon.csproj; do
    log "publishing $p -> bin/"
    dotnet publish "$p" -c "$CONFIG" -o "$ROOT/bin" -nologo -v:q -clp:ErrorsOnly >/dev/null
  done
  log "publishing src/Dfget/App/Dragonfly.Dfget.csproj -> bin/dfget.app/ (native, Native AOT)"
  dotnet publish src/Dfget/App/Dragonfly.Dfget.csproj -c "$CONFIG" -o "$ROOT/bin/dfget.app" -nologo -v:q -clp:ErrorsOnly >/dev/null
  ln -sfn dfget.app/dfget "$ROOT/bin/dfget"
  log "done: bin/supernode bin/dfget bin/dfdaemon"
}

run_tests() {
  need_test_tools
  publish
  local results="$ROOT/artifacts/test-results"
  rm -rf "$results"; mkdir -p "$results"
  local status=0
  local projects=(tests/Dragonfly.Common.Tests tests/Dragonfly.Supernode.Tests tests/Dragonfly.Dfget.Tests tests/Dragonfly.Dfdaemon.Tests tests/Dragonfly.FunctionalTests)
  for p in "${projects[@]}"; do
    local name; name="$(basename "$p")"
    log "testing $name"
    if ! DRAGONFLY_BIN="$ROOT/bin" dotnet test "$p" -c "$CONFIG" --no-build -nologo -v:q \
        --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
        --results-directory "$results" -- RunConfiguration.TestSessionTimeout=1500000; then
      status=1
    fi
  done
  local passed=0 failed=0 skipped=0 total=0
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    local line; line="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
    local t e p f
    t="$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$line")"
    e="$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$line")"
    p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$line")"
    f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$line")"
    total=$((total + ${t:-0})); passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    skipped=$((skipped + ${t:-0} - ${e:-0}))
  done
  local trx_count; trx_count=$(ls "$results"/*.trx 2>/dev/null | wc -l)
  if [ "$trx_count" -ne "${#projects[@]}" ]; then
    log "only $trx_count of ${#projects[@]} test projects produced results"; status=1
    failed=$((failed + ${#projects[@]} - trx_count))
  fi
  [ "$failed" -gt 0 ] && status=1
  echo "$passed passed, $failed failed, $skipped skipped"
  return $status
}

case "${1:-build}" in
  build|publish) publish ;;
  test) run_tests ;;
  demo)
    apt_install nginx-light curl
    publish
    exec "$ROOT/eng/demo.sh" ;;
  bench)
    apt_install nginx-light time curl docker-registry skopeo umoci iproute2 python3-matplotlib
    publish
    exec "$ROOT/eng/bench.sh" "${@:2}" ;;
  *) echo "usage: $0 [build|test|demo|bench]" >&2; exit 2 ;;
esac
