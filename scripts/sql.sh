#!/usr/bin/env bash
# SQL over the pipeline's tables (Delta tables and published embeddings, each a view of its name).
#   scripts/sql.sh [--config FILE] "SELECT task, count(*) FROM training_examples GROUP BY task"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/scripts/lib/java.sh"
convcg_java dev.convcg.tools.ops.Sql "$@"
