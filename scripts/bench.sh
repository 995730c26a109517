#!/usr/bin/env bash
# Runs a benchmark program (not a test) on this machine and prints its figures.
#
#   scripts/bench.sh simulator [IMPRESSIONS]     simulate stage at 10M impressions (default)
#   scripts/bench.sh inference [PINS] [BATCH] [PARTITIONS]   pins embedded/s at 1M pins vs the matmul-bound rate
#   scripts/bench.sh training-data [IMPRESSIONS] build-training-data on one day (10M) vs a bare read+write
#   scripts/bench.sh model [SECONDS] [BATCH] [H] [THREADS] [key=value]...   training examples/s of the shipped model vs libtorch matmul
#   scripts/bench.sh nightly [N1,N2,...] [PLOT.png]   the nightly chain per stage at N impressions/day (1M,3M,10M)
#   scripts/bench.sh import [EVENTS]             import-events of a generated 1M-event CSV vs a bare read+write
#   scripts/bench.sh online-ab [CONFIG]          the simulated online A/B of the medium world (5 arms) vs its input floor
#   scripts/bench.sh retrieval [USERS] [PINS] [K] [key=value]...   evaluate's exact top-K vs the scorer's block rate x cores
#
# Record results in docs/benchmarks.md with the machine and the date.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
which="${1:-}"; shift || true
case "$which" in
  simulator) main=dev.convcg.tools.bench.SimulatorBenchmark ;;
  inference) main=dev.convcg.tools.bench.InferenceBenchmark ;;
  training-data) main=dev.convcg.tools.bench.TrainingDataBenchmark ;;
  model) main=dev.convcg.tools.bench.ModelTrainingBenchmark ;;
  nightly) main=dev.convcg.tools.bench.NightlyScaleBenchmark ;;
  import) main=dev.convcg.tools.bench.ImportBenchmark ;;
  online-ab) main=dev.convcg.tools.bench.OnlineAbBenchmark ;;
  retrieval) main=dev.convcg.tools.bench.RetrievalBenchmark ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
source "$ROOT/scripts/lib/java.sh"
convcg_java "$main" "$@"
