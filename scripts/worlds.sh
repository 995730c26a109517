#!/usr/bin/env bash
# Many worlds: the model and each ablation variant on N simulated worlds (world seeds) x M model seeds. Every world
# is simulated, built, trained and evaluated like the quickstart (or the medium scale), then `ablate` trains each
# variant once per model seed on it. Ends with one table (dev.convcg.tools.ops.WorldsTable): per variant its headline
# recall as mean +- sd across worlds and its effect against `default` with a 95% t interval across worlds, then per
# world the model's lifts over engagement_only (recall@100 and the online A/B's conversions per 1,000 impressions).
#
#   scripts/worlds.sh [--scale quickstart|medium] [--worlds 42,43,44] [--seeds 1,2,3]
#                     [--variants default,multi_head,...] [--set KEY=VALUE ...]
#
# Outputs under out-worlds/<scale>/world-<seed>/ (one storage root per world); the table is also written to
# out-worlds/<scale>/worlds.md. Cost: worlds x (one quickstart + variants x seeds trainings); docs/results.md has
# the times measured.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SCALE=quickstart
WORLDS=42,43,44
SEEDS=1,2,3
VARIANTS=default,multi_head,no_advertiser_loss,no_duration_weights,no_hard_negatives,stacked_towers
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scale) SCALE="$2"; shift 2 ;;
    --worlds) WORLDS="$2"; shift 2 ;;
    --seeds) SEEDS="$2"; shift 2 ;;
    --variants) VARIANTS="$2"; shift 2 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done
case "$SCALE" in
  quickstart) BASE=conf/local.conf; T=2026-10-11; D=2026-10-14; LOOKBACK=11 ;;
  medium) BASE=conf/sim-medium.conf; T=2026-10-14; D=2026-10-21; LOOKBACK=14 ;;
  *) echo "worlds.sh: --scale $SCALE: expected quickstart or medium" >&2; exit 2 ;;
esac
# The held-out build relabels only the evaluation days (D - T), so the days up to T keep the labels known on T.
EVAL_LOOKBACK=$(( ( $(date -u -d "$D" +%s) - $(date -u -d "$T" +%s) ) / 86400 ))
OUT="out-worlds/$SCALE"
t0=$(date +%s)
step() { echo; echo "=== [worlds $(( $(date +%s) - t0 ))s] $*"; }
for W in ${WORLDS//,/ }; do
  CONF=(--config "$BASE" --set "storage.root=\"$OUT/world-$W\"" --set "simulate.seed=$W" "${EXTRA[@]}")
  step "world $W: simulate, build-training-data $T, train, infer-embeddings, build-training-data $D, ablate $D ($VARIANTS x seeds $SEEDS), evaluate (one JVM)"
  scripts/pipeline.sh simulate "${CONF[@]}" \
    --then build-training-data "${CONF[@]}" --set run-date=$T --set training-data.lookback-days=$LOOKBACK \
    --then train "${CONF[@]}" --set run-date=$T \
    --then infer-embeddings "${CONF[@]}" --set run-date=$T \
    --then build-training-data "${CONF[@]}" --set run-date=$D --set training-data.lookback-days=$EVAL_LOOKBACK \
    --then ablate "${CONF[@]}" --set run-date=$D --set "evaluate.ablation.seeds=[$SEEDS]" \
      --set "evaluate.ablation.only=[$VARIANTS]"
done
step "table over worlds $WORLDS"
source "$ROOT/scripts/lib/java.sh"
(convcg_java dev.convcg.tools.ops.WorldsTable "$OUT" "$D" ${WORLDS//,/ }) | tee "$OUT/worlds.md"
echo "worlds.sh finished in $(( $(date +%s) - t0 ))s; table: $OUT/worlds.md"
