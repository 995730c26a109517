#!/usr/bin/env bash
# The evaluation at the medium simulated scale (conf/sim-medium.conf): simulate 21 days, train on the days up to
# 2026-10-14 with the labels known then, publish that day's embeddings, evaluate on the 7 following days against the
# baselines. Add `--ablate` to also run the ablation (variants x seeds; long: see docs/results.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ABLATE=0
ARGS=()
for a in "$@"; do if [[ "$a" == "--ablate" ]]; then ABLATE=1; else ARGS+=("$a"); fi; done
CONF=(--config conf/sim-medium.conf "${ARGS[@]}")
T=2026-10-14
D=2026-10-21
t0=$(date +%s)
LOG=$(mktemp)
LAST_STAGE=evaluate
if [[ $ABLATE -eq 1 ]]; then LAST_STAGE=ablate; fi
# One JVM and one Spark session for all six stages (Main's --then).
scripts/pipeline.sh simulate "${CONF[@]}" \
  --then build-training-data "${CONF[@]}" --set run-date=$T --set training-data.lookback-days=14 \
  --then train "${CONF[@]}" --set run-date=$T \
  --then infer-embeddings "${CONF[@]}" --set run-date=$T \
  --then build-training-data "${CONF[@]}" --set run-date=$D --set training-data.lookback-days=7 \
  --then $LAST_STAGE "${CONF[@]}" --set run-date=$D 2>&1 | tee "$LOG"
echo "=== [medium $(( $(date +%s) - t0 ))s] done: $(grep -o 'report: [^;]*/report.html' "$LOG" | tail -1 | sed 's/^report: //')"
