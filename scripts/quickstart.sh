#!/usr/bin/env bash
# The whole pipeline on the embedded default: local Spark, local Delta tables under out/, simulated data.
# Builds what it needs first. Takes a few minutes on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONF=(--config conf/local.conf "$@")
t0=$(date +%s)

scripts/pipeline.sh simulate "${CONF[@]}"

echo
echo "quickstart finished in $(( $(date +%s) - t0 ))s; tables under out/tables:"
ls out/tables
