#!/usr/bin/env bash
# Runs one pipeline stage on the embedded local Spark (or prints its spark-submit line).
#
#   scripts/pipeline.sh STAGE [--config FILE] [--set key=value]... [--dry-run]
#   scripts/pipeline.sh nightly --ds YYYY-MM-DD [--force] [--config FILE] [--set key=value]...
#   scripts/pipeline.sh STAGE [options] --then STAGE [options]...    (in order, one JVM and Spark session)
#
# Builds the project first when a source is newer than the last build. Exit codes: 0 ok, 1 stage failed,
# 2 bad command line or configuration, 3 the day's inputs are missing (wait and retry); nightly: 10 + position
# of the failed stage (11 build-training-data, 12 train, 13 infer-embeddings, 14 evaluate).
# nightly skips stages whose success marker for the day exists; --force redoes them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,12p' "$0"; exit 2
fi

DRY_RUN=0
ARGS=()
NIGHTLY_SKIP=true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --force) NIGHTLY_SKIP=false ;;
    --ds) [[ $# -ge 2 ]] || { echo "--ds needs a date" >&2; exit 2; }; ARGS+=(--set "run-date=$2"); shift ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
# nightly skips stages whose outputs are complete unless --force; a skip-complete the user sets is never overridden.
if [[ "${ARGS[0]}" == "nightly" ]] && ! printf '%s\n' "${ARGS[@]}" | grep -q '^skip-complete='; then
  ARGS+=(--set "skip-complete=$NIGHTLY_SKIP")
fi

source "$ROOT/scripts/lib/java.sh"

FAT_JAR="jobs/target/jobs-$VERSION-all.jar"
SUBMIT=(--class dev.convcg.jobs.Main
  --conf "spark.driver.extraJavaOptions=-Dai.djl.offline=true"
  --conf "spark.executor.extraJavaOptions=-Dai.djl.offline=true")
if [[ $DRY_RUN -eq 1 ]]; then
  printf '%s' "${CONVCG_SPARK_SUBMIT:-spark-submit}"
  printf ' %q' "${SUBMIT[@]}" ${CONVCG_SUBMIT_OPTS:-} "$FAT_JAR" "${ARGS[@]}"
  printf '\n# build the jar with: mvn -B -ntp -Pdist -DskipTests package (see README, "Running on a cluster")\n'
  exit 0
fi

# With CONVCG_SPARK_SUBMIT (a spark-submit path), stages run through it with the fat jar; CONVCG_SUBMIT_OPTS adds
# spark-submit options (--master, --deploy-mode, resources). Without it, they run on the embedded local Spark.
if [[ -n "${CONVCG_SPARK_SUBMIT:-}" ]]; then
  [[ -f "$FAT_JAR" ]] || mvn -B -ntp -q -Dstyle.color=never -Pdist -DskipTests package >&2
  # shellcheck disable=SC2086
  exec "$CONVCG_SPARK_SUBMIT" "${SUBMIT[@]}" ${CONVCG_SUBMIT_OPTS:-} "$FAT_JAR" "${ARGS[@]}"
fi
convcg_java dev.convcg.jobs.Main "${ARGS[@]}"
