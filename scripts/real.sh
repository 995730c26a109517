#!/usr/bin/env bash
# The pipeline on a real event log, end to end, with a time split: one command per log.
#
#   scripts/real.sh NAME [--set key=value]...      NAME: tmall, taobao, or any conf/real-NAME.conf
#
#   1. import-events          the log into the raw tables (the preset's mapping; quarantine for bad rows)
#   2. build-training-data    examples of the window-days up to T = run-date - eval-days, and of T+1 .. run-date
#   3. train                  the two-tower on the days up to T (validation: T)
#   4. infer-embeddings       pin and user embeddings of T
#   5. evaluate               recall@K on T+1 .. run-date against popularity, history, ALS and engagement_only
# Ends with the report's path and each model's conversion recall@100 and @1000. On your own log: write an import
# preset (docs/data-model.md, "Real logs") and a conf/real-NAME.conf like conf/real-tmall.conf.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ $# -lt 1 || "$1" == -* ]]; then sed -n '2,13p' "$0"; exit 2; fi
NAME="$1"; shift
CONF="conf/real-$NAME.conf"
[[ -f "$CONF" ]] || { echo "no $CONF; presets: $(ls conf/real-*.conf | sed 's#conf/real-##; s#\.conf##' | tr '\n' ' ')" >&2; exit 2; }
# The split as the preset writes it (one line each): run-date = "D", eval-days = N, window-days = W.
conf_value() { grep -oP "\\b$1 *= *\"?\\K[0-9-]+" "$CONF" | head -1; }
D=$(conf_value run-date); EVAL_DAYS=$(conf_value eval-days); WINDOW=$(conf_value window-days)
T=$(date -u -d "$D - $EVAL_DAYS days" +%F)
ROOT_DIR=$(grep -oP 'storage.root *= *"\K[^"]+' "$CONF" | head -1)
C=(--config "$CONF" "$@")
t0=$(date +%s)
mkdir -p "$ROOT_DIR"
# One JVM and one Spark session for all six stages (Main's --then).
scripts/pipeline.sh import-events "${C[@]}" --set run-date=$D \
  --then build-training-data "${C[@]}" --set run-date=$T --set training-data.lookback-days=$WINDOW \
  --then build-training-data "${C[@]}" --set run-date=$D --set training-data.lookback-days=$EVAL_DAYS \
  --then train "${C[@]}" --set run-date=$T \
  --then infer-embeddings "${C[@]}" --set run-date=$T --set infer-embeddings.reset=true \
  --then evaluate "${C[@]}" --set run-date=$D 2>&1 | tee "$ROOT_DIR/run.log"
echo
echo "real $NAME finished in $(( $(date +%s) - t0 ))s (train ..$T, evaluate $(date -u -d "$T + 1 day" +%F)..$D)"
echo "report:  $ROOT/$ROOT_DIR/reports/$D/report.html"
echo "metrics: $ROOT/$ROOT_DIR/reports/$D/metrics.json"
echo "conversion recall (event hit rate, all surfaces) per model:"
sed -n '/conversion recall (event hit rate/,/SUMMARY/p' "$ROOT_DIR/run.log" | grep -E '^  [a-z_]+ '
