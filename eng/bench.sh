#!/usr/bin/env bash
# The whole-system benchmark (BENCHMARKS.md) is not built yet: this runs the micro benchmarks only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
echo "The whole-system P2P benchmark (network namespaces, plots in docs/) is a later issue; running micro benchmarks." >&2
dotnet run -c Release --project bench/Dragonfly.Benchmarks -- --filter "${1:-*}"
