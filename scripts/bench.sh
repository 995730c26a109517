#!/usr/bin/env bash
# Runs a benchmark program (not a test) on this machine and prints its figures.
#
#   scripts/bench.sh simulator [IMPRESSIONS]     simulate stage at 10M impressions (default)
#   scripts/bench.sh inference [PINS] [BATCH] [PARTITIONS]   pins embedded/s at 1M pins vs the matmul-bound rate
#
# Record results in docs/benchmarks.md with the machine and the date.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
which="${1:-}"; shift || true
case "$which" in
  simulator) main=dev.convcg.jobs.bench.SimulatorBenchmark ;;
  inference) main=dev.convcg.jobs.bench.InferenceBenchmark ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac
source "$ROOT/scripts/lib/java.sh"
convcg_java "$main" "$@"
