#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript / spark.driver.resource.gpu.discoveryScript).
# Prints the GPUs this executor may use as Spark's resource JSON, e.g. {"name":"gpu","addresses":["0","1"]}.
# Honors CUDA_VISIBLE_DEVICES when the cluster manager sets it; otherwise asks nvidia-smi.
set -euo pipefail
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then
  ids=$(echo "$CUDA_VISIBLE_DEVICES" | tr ',' '\n' | sed 's/.*/"&"/' | paste -sd, -)
elif command -v nvidia-smi >/dev/null 2>&1; then
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed 's/ //g; s/.*/"&"/' | paste -sd, -)
else
  ids=""
fi
echo "{\"name\":\"gpu\",\"addresses\":[${ids}]}"
