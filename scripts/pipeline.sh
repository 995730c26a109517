#!/usr/bin/env bash
# Runs one pipeline stage on the embedded local Spark (or prints its spark-submit line).
#
#   scripts/pipeline.sh STAGE [--config FILE] [--set key=value]... [--dry-run]
#
# Builds the project first when a source is newer than the last build. Exit code: the stage's
# (0 ok, 1 stage failed, 2 bad command line or configuration).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,8p' "$0"; exit 2
fi

DRY_RUN=0
ARGS=()
for a in "$@"; do
  if [[ "$a" == "--dry-run" ]]; then DRY_RUN=1; else ARGS+=("$a"); fi
done

source "$ROOT/scripts/lib/java.sh"

if [[ $DRY_RUN -eq 1 ]]; then
  printf 'spark-submit --class dev.convcg.jobs.Main \\\n'
  printf '  --conf "spark.driver.extraJavaOptions=-Dai.djl.offline=true" \\\n'
  printf '  --conf "spark.executor.extraJavaOptions=-Dai.djl.offline=true" \\\n'
  printf '  jobs/target/jobs-%s-all.jar' "$VERSION"
  printf ' %q' "${ARGS[@]}"
  printf '\n# build the jar with: mvn -B -ntp -Pdist -DskipTests package (see README, "Running on a cluster")\n'
  exit 0
fi

convcg_java dev.convcg.jobs.Main "${ARGS[@]}"
