#!/usr/bin/env bash
# The whole pipeline on the embedded default: local Spark, local Delta tables under out/, a simulated world of
# 14 days (conf/local.conf). Builds what it needs first.
#
#   1. simulate                 the raw logs of 2026-10-01 .. 2026-10-14
#   2. build-training-data      examples up to 2026-10-11 (T), with the labels known on T
#   3. train                    the two-tower on the days up to T (validation: T)
#   4. infer-embeddings         pin and user embeddings of T
#   5. build-training-data      examples of the 3 days after T, labelled as of 2026-10-14 (the days up to T keep the
#                               labels known on T, so no model or baseline sees a conversion reported after T)
#   6. evaluate                 recall@K on 2026-10-12 .. 2026-10-14 against the baselines; prints the report path
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONF=(--config conf/local.conf "$@")
T=2026-10-11
D=2026-10-14
t0=$(date +%s)
mkdir -p out
# One JVM and one Spark session for all six stages (Main's --then): a run pays for one start instead of six.
scripts/pipeline.sh simulate "${CONF[@]}" \
  --then build-training-data "${CONF[@]}" --set run-date=$T --set training-data.lookback-days=11 \
  --then train "${CONF[@]}" --set run-date=$T \
  --then infer-embeddings "${CONF[@]}" --set run-date=$T \
  --then build-training-data "${CONF[@]}" --set run-date=$D --set training-data.lookback-days=3 \
  --then evaluate "${CONF[@]}" --set run-date=$D 2>&1 | tee out/quickstart.log
echo
echo "quickstart finished in $(( $(date +%s) - t0 ))s"
# the report's directory follows storage.root (e.g. out/dense with conf/sim-dense.conf)
DIR=$(grep -o 'report: [^;]*/report.html' out/quickstart.log | tail -1 | sed 's/^report: //; s|/report.html$||')
echo "report:  $DIR/report.html"
echo "metrics: $DIR/metrics.json"
echo "headline: conversion recall (event hit rate, all surfaces) per model:"
sed -n '/conversion recall (event hit rate/,/SUMMARY/p' out/quickstart.log | grep -E '^  [a-z_]+ ' || true
