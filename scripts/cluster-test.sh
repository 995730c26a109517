#!/usr/bin/env bash
# Standalone-cluster test: a real Spark standalone master and two workers on 127.0.0.1, started from the Spark jars
# in the local Maven repository; the small nightly chain submitted with the fat jar through SparkSubmit; outputs
# compared with a local-mode run of the same inputs; then the chain again while one worker (and its executor) is
# killed with SIGKILL in the middle of a stage, and the outputs compared again.
#
#   scripts/cluster-test.sh [--no-build] [--no-kill] [--keep]
#
#   --no-build  use the existing jobs/target/jobs-<version>-all.jar, tools jar and classpath (default: build them first)
#   --no-kill   skip the worker-kill run
#   --keep      keep the temp dir (tables, logs) for inspection
#
# Environment: CONVCG_CLUSTER_TMP (parent of the temp dir, default /tmp), CONVCG_MVN_OPTS (default -o: offline),
# CONVCG_CLUSTER_TIMEOUT (seconds per submitted run, default 900), CONVCG_CLUSTER_KILL_STAGE (the submission during
# which worker 1 dies, default build-training-data), CONVCG_CLUSTER_KILL_AFTER_TASKS (task starts on worker 1's
# executor before the kill, default 6).
# Exit code 0 when every run finished and every comparison matched; 1 otherwise. About 26 minutes on a loaded
# 2-core machine: not run by CI. See docs/operations.md, "Standalone cluster test".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/java.sh
source "$ROOT/scripts/lib/java.sh"

BUILD=1 KILL=1 KEEP=0
for a in "$@"; do
  case "$a" in
    --no-build) BUILD=0 ;;
    --no-kill) KILL=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument '$a' (see --help)" >&2; exit 2 ;;
  esac
done

RUN_TIMEOUT="${CONVCG_CLUSTER_TIMEOUT:-900}"
MVN_OPTS="${CONVCG_MVN_OPTS--o}"
FAT_JAR="$ROOT/jobs/target/jobs-$VERSION-all.jar"
TOOLS_JAR="$ROOT/tools/target/tools-$VERSION.jar"
T_START=$(date +%s)
WORK="$(mktemp -d "${CONVCG_CLUSTER_TMP:-/tmp}/convcg-cluster.XXXXXX")"
PIDS=()

log() { printf '[cluster-test %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - T_START ))" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Every daemon and driver is started with setsid, so its pid is its process group: killing the group also ends the
# executor JVMs a worker launched.
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  if [[ $KEEP -eq 1 || $rc -ne 0 ]]; then
    log "logs and tables kept in $WORK"
    [[ $KEEP -eq 1 ]] || log "(remove it with: rm -rf $WORK)"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_log FILE REGEX TIMEOUT_S WHAT [PID]: waits until FILE has a line matching REGEX; fails after TIMEOUT_S
# seconds, or as soon as PID (when given) has exited.
wait_for_log() {
  local file="$1" re="$2" timeout="$3" what="$4" pid="${5:-}" t0
  t0=$(date +%s)
  until grep -Eq -- "$re" "$file" 2>/dev/null; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$file" >&2 || true
      die "$what: the process exited before its log showed /$re/ (log: $file)"
    fi
    if (( $(date +%s) - t0 > timeout )); then
      tail -30 "$file" >&2 || true
      die "$what: no /$re/ in $file after ${timeout}s"
    fi
    sleep 1
  done
}

# ---------------------------------------------------------------------------------------------------------- build
# The Spark "installation" is what the dist profile assumes a cluster provides: the provided-scope dependencies of
# jobs, plus the artifacts the shade plugin leaves out because Spark ships them (scala, slf4j, antlr4, commons-codec,
# commons-io, commons-compress, gson, errorprone). dependency:list runs in the same reactor as the package, so the
# sibling modules come from this tree (and are not part of the list used anyway).
SPARK_JARS_LIST="$ROOT/jobs/target/cluster-test-spark-jars.txt"
if [[ $BUILD -eq 1 || ! -f "$FAT_JAR" || ! -f "$TOOLS_JAR" || ! -f "$SPARK_JARS_LIST" ]]; then
  log "building the fat jar and the tools jar (mvn $MVN_OPTS -Pdist -DskipTests package dependency:list -pl jobs,tools -am)"
  # shellcheck disable=SC2086
  mvn -B -ntp -q $MVN_OPTS -Dstyle.color=never -Pdist -DskipTests package dependency:list -pl jobs,tools -am \
    -DoutputAbsoluteArtifactFilename=true -DappendOutput=false -DoutputFile=target/deps.txt >&2
  sed -e 's/^ *//' -e 's/ -- module.*$//' "$ROOT/jobs/target/deps.txt" | awk -F: '
    NF >= 6 {
      scope = $(NF-1); path = $NF; ga = $1 ":" $2
      shipped = ($1 == "org.scala-lang" || $1 == "org.slf4j" || $1 == "com.google.errorprone" \
        || ga == "org.antlr:antlr4-runtime" || ga == "commons-codec:commons-codec" || ga == "commons-io:commons-io" \
        || ga == "org.apache.commons:commons-compress" || ga == "com.google.code.gson:gson")
      if (scope == "provided" || ((scope == "compile" || scope == "runtime") && shipped)) print path
    }' > "$SPARK_JARS_LIST"
fi
[[ -f "$FAT_JAR" ]] || die "no fat jar at $FAT_JAR"
[[ -s "$SPARK_JARS_LIST" ]] || die "no Spark jars listed in $SPARK_JARS_LIST"
# A throwaway SPARK_HOME: workers launch executors through Spark's launcher, which reads $SPARK_HOME/jars.
export SPARK_HOME="$WORK/spark-home"
mkdir -p "$SPARK_HOME/jars" "$SPARK_HOME/conf"
echo "Spark from the local Maven repository (convcg cluster test)" > "$SPARK_HOME/RELEASE"
while read -r jar; do
  [[ -f "$jar" ]] || die "Spark jar $jar is missing (rebuild without --no-build)"
  ln -sf "$jar" "$SPARK_HOME/jars/$(basename "$jar")"
done < "$SPARK_JARS_LIST"
log "$(find "$SPARK_HOME/jars" -name '*.jar' | wc -l) Spark jars linked into $SPARK_HOME/jars"
SPARK_CP="$SPARK_HOME/jars/*"

export SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$WORK/spark-local"
export SPARK_LOG_DIR="$WORK/logs" SPARK_PID_DIR="$WORK/pids" SPARK_CONF_DIR="$SPARK_HOME/conf"
mkdir -p "$SPARK_LOCAL_DIRS" "$SPARK_LOG_DIR"
LOGS="$SPARK_LOG_DIR"

# ---------------------------------------------------------------------------------------------------------- config
# A small world and model, identical for every run; master "" so that --master decides.
CONF="$WORK/cluster-test.conf"
cat > "$CONF" <<'EOF'
convcg {
  spark { master = "", shuffle-partitions = 4 }
  simulate {
    days = 6
    users = 1500
    pins = 1500
    advertisers = 60
    categories = 12
    topic-dim = 8
    impressions-per-user-day = 20
    partitions = 4
  }
  model {
    embedding-dim = 16
    tower.mlp-widths = [32, 16]
    max-hash-buckets = 2048
    content-embedding-dim = 8
  }
  train {
    epochs = 1
    batch-size = 128
    window-days = 6
    # One libtorch thread in both modes, so the cluster and the local run do the same arithmetic.
    intra-op-threads = 1
    sampled-recall { conversions = 500, candidates = 1000 }
  }
  evaluate {
    eval-days = 1
    training-days = 5
    baselines = ["popularity", "als", "oracle"]
    als { rank = 8, iterations = 3 }
  }
}
EOF
T_DAY=2026-10-05   # the bootstrap day: its model and embeddings are what the nightly of D evaluates
D_DAY=2026-10-06   # the nightly's day: the last simulated day (start-date 2026-10-01 + days - 1)

# The chain, one submission per line (as a scheduler would submit it). evaluate for D scores the model and embeddings
# of T = D - 1, so the first night needs T bootstrapped by hand (the same stages as nightly, without evaluate); the
# nightly warm-starts from the model of T (daily incremental training, and the embedding lineage stays one).
CHAIN=(
  "simulate"
  "build-training-data --set run-date=$T_DAY --set training-data.lookback-days=5"
  "train --set run-date=$T_DAY"
  "infer-embeddings --set run-date=$T_DAY"
  "nightly --set run-date=$D_DAY --set skip-complete=true --set train.warm-start=true"
)
# The stage whose submission the kill run interrupts, and after how many task starts on worker 1's executor.
KILL_STAGE="${CONVCG_CLUSTER_KILL_STAGE:-build-training-data}"
KILL_AFTER_TASKS="${CONVCG_CLUSTER_KILL_AFTER_TASKS:-6}"

# ---------------------------------------------------------------------------------------------------------- submit
DRIVER_OPTS="$SPARK_JAVA_OPTS -Dai.djl.offline=true"
# submit NAME MASTER STORAGE_ROOT STAGE_ARGS...: runs one stage through SparkSubmit (client mode) in the background;
# sets SUBMIT_PID; the driver log is $LOGS/NAME.log.
submit() {
  local name="$1" master="$2" root="$3"; shift 3
  local -a cluster_conf=()
  if [[ "$master" == spark://* ]]; then
    cluster_conf=(--conf spark.executor.memory=1g --conf spark.executor.cores=1 --conf spark.cores.max=2)
  fi
  # shellcheck disable=SC2086
  setsid timeout --signal=KILL "$RUN_TIMEOUT" \
    java -Xmx1536m $DRIVER_OPTS -Dlog4j2.configurationFile="$ROOT/jobs/src/main/resources/log4j2-convcg.properties" \
    -cp "$SPARK_CP" org.apache.spark.deploy.SparkSubmit \
    --master "$master" --deploy-mode client --class dev.convcg.jobs.Main --name "convcg-$name" \
    --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 --conf spark.ui.enabled=false \
    --conf "spark.driver.extraJavaOptions=$DRIVER_OPTS" \
    --conf "spark.executor.extraJavaOptions=$SPARK_JAVA_OPTS -Dai.djl.offline=true" \
    --conf spark.local.dir="$SPARK_LOCAL_DIRS" \
    "${cluster_conf[@]}" \
    "$FAT_JAR" "$@" --config "$CONF" --set storage.root="$root" \
    > "$LOGS/$name.log" 2>&1 &
  SUBMIT_PID=$!
  PIDS+=("$SUBMIT_PID")
}

# finish NAME PID: waits for a submitted run and fails with its log tail when it did not exit 0.
finish() {
  local name="$1" pid="$2" rc=0
  wait "$pid" || rc=$?
  if [[ $rc -ne 0 ]]; then
    tail -40 "$LOGS/$name.log" >&2
    [[ $rc -eq 137 ]] && die "$name: killed after ${RUN_TIMEOUT}s (CONVCG_CLUSTER_TIMEOUT)"
    die "$name: exit code $rc (log: $LOGS/$name.log)"
  fi
  grep -h 'SUMMARY' "$LOGS/$name.log" | sed 's/^/    /' >&2
}

# run_chain TAG MASTER ROOT [KILL]: every CHAIN entry as its own submission; with KILL, worker 1 is killed during
# the KILL_STAGE submission. Sets TIMES (seconds per submission).
run_chain() {
  local tag="$1" master="$2" root="$3" kill="${4:-}" t0 entry name
  local -a args
  TIMES=""
  for entry in "${CHAIN[@]}"; do
    # shellcheck disable=SC2206
    args=($entry)
    name="$tag-${args[0]}"
    t0=$(date +%s)
    if [[ -n "$kill" && "${args[0]}" == "$KILL_STAGE" && -z "${KILLED:-}" ]]; then
      local old_apps old_apps2
      old_apps="$(ls "$WORK/worker1")" old_apps2="$(ls "$WORK/worker2")"
      submit "$name" "$master" "$root" "${args[@]}"
      kill_worker1_during "$name" "$SUBMIT_PID" "$old_apps" "$old_apps2"
      KILLED=1
    else
      submit "$name" "$master" "$root" "${args[@]}"
    fi
    finish "$name" "$SUBMIT_PID"
    TIMES+="${args[0]} $(( $(date +%s) - t0 ))s, "
  done
  log "$tag: ${TIMES%, }"
}

# kill_worker1_during NAME DRIVER_PID OLD_APPS OLD_APPS2: once worker 1's executor for this submission has started
# KILL_AFTER_TASKS tasks, SIGKILL worker 1 and its executor (their process group), and report what was running.
kill_worker1_during() {
  local name="$1" driver="$2" old_apps="$3" old_apps2="$4" deadline exec_log="" app n=0
  deadline=$(( $(date +%s) + 600 ))
  while :; do
    if [[ -n "$exec_log" ]]; then
      n=$(grep -c 'Running task' "$exec_log" 2>/dev/null || true)
      (( n >= KILL_AFTER_TASKS )) && break
    fi
    kill -0 "$driver" 2>/dev/null || die "kill run: $name ended before worker 1's executor started $KILL_AFTER_TASKS tasks"
    (( $(date +%s) < deadline )) || die "kill run: worker 1's executor started only $n tasks in 600s"
    for app in "$WORK"/worker1/app-*; do
      grep -qxF "$(basename "$app")" <<<"$old_apps" || exec_log="$(ls "$app"/*/stderr 2>/dev/null | sed -n 1p)"
    done
    sleep 0.2
  done
  local running finished exec_pids
  running="$(grep -h 'Running task' "$exec_log" | sed 's/.*Running task \([^ ]*\) in stage \([^ ]*\) .*/stage \2 task \1/' | sort)"
  finished="$(grep -h 'Finished task' "$exec_log" | sed 's/.*Finished task \([^ ]*\) in stage \([^ ]*\) .*/stage \2 task \1/' | sort)"
  exec_pids="$(pgrep -g "${WORKER_PID[1]}" -f CoarseGrainedExecutorBackend | tr '\n' ' ' || true)"
  kill -KILL -- "-${WORKER_PID[1]}"
  wait "${WORKER_PID[1]}" 2>/dev/null || true
  log "KILLED worker 1 (pid ${WORKER_PID[1]}) and its executor JVM [${exec_pids% }] during $name, after its executor had started $n tasks; unfinished at the kill: $(comm -23 <(echo "$running") <(echo "$finished") | tr '\n' ';')"
  KILL_OLD_APPS2="$old_apps2"
}

# kill_report: what the driver logged about the loss and which task attempts worker 2 re-ran.
kill_report() {
  log "what the driver logged about the kill:"
  grep -hE 'Lost executor|Lost task|ExecutorLostFailure|FetchFailed|Resubmitt' "$LOGS"/kill-*.log \
    | sed 's/^/    /' | head -20 >&2 || true
  local rerun app
  rerun="$(for app in "$WORK"/worker2/app-*; do
      grep -qxF "$(basename "$app")" <<<"$KILL_OLD_APPS2" || cat "$app"/*/stderr; done \
    | grep -E 'Running task [0-9]+\.[1-9]' | sed 's/.*Executor: /    /' || true)"
  if [[ -n "$rerun" ]]; then
    log "task attempts re-run on worker 2 after the kill (attempt number after the dot):"
    echo "$rerun" >&2
  else
    log "NOTE: worker 2 re-ran no task attempt: the kill hit worker 1's executor between tasks"
  fi
}

compare() {
  local expected="$1" actual="$2" name="$3"
  log "comparing $name with the local run"
  java -Xmx1g $SPARK_JAVA_OPTS -Dlog4j2.configurationFile="$ROOT/jobs/src/main/resources/log4j2-convcg.properties" \
    -cp "$TOOLS_JAR:$FAT_JAR:$SPARK_CP" dev.convcg.tools.ops.CompareOutputs "$expected" "$actual" \
    || die "$name differs from the local run (see the table above)"
}

# ---------------------------------------------------------------------------------------------------------- cluster
start_master() {
  setsid java -Xmx512m $SPARK_JAVA_OPTS -Dspark.worker.timeout=15 -cp "$SPARK_CP" \
    org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0 \
    > "$LOGS/master.log" 2>&1 &
  MASTER_PID=$!
  PIDS+=("$MASTER_PID")
  wait_for_log "$LOGS/master.log" 'Starting Spark master at spark://' 120 "master" "$MASTER_PID"
  MASTER_URL="$(grep -m1 -Eo 'spark://127\.0\.0\.1:[0-9]+' "$LOGS/master.log")"
  wait_for_log "$LOGS/master.log" 'I have been elected leader' 60 "master" "$MASTER_PID"
  log "master up at $MASTER_URL (pid $MASTER_PID)"
}

# start_worker N: a worker with 1 core and 1.5 GB for executors, its own work dir; sets WORKER_PID[N].
declare -A WORKER_PID
start_worker() {
  local n="$1"
  mkdir -p "$WORK/worker$n"
  setsid java -Xmx384m $SPARK_JAVA_OPTS -cp "$SPARK_CP" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --port 0 --webui-port 0 --cores 1 --memory 1536m --work-dir "$WORK/worker$n" "$MASTER_URL" \
    > "$LOGS/worker$n.log" 2>&1 &
  WORKER_PID[$n]=$!
  PIDS+=("${WORKER_PID[$n]}")
  wait_for_log "$LOGS/worker$n.log" 'Successfully registered with master' 120 "worker $n" "${WORKER_PID[$n]}"
  log "worker $n registered (pid ${WORKER_PID[$n]}, work dir $WORK/worker$n)"
}

# ---------------------------------------------------------------------------------------------------------- runs
log "local run (local[2]) into $WORK/local"
T0=$(date +%s); run_chain local "local[2]" "$WORK/local"; T_LOCAL=$(( $(date +%s) - T0 )); TIMES_LOCAL="$TIMES"

log "starting the standalone cluster"
start_master
start_worker 1
start_worker 2

log "cluster run (2 workers x 1 core) into $WORK/cluster"
T0=$(date +%s); run_chain cluster "$MASTER_URL" "$WORK/cluster"; T_CLUSTER=$(( $(date +%s) - T0 )); TIMES_CLUSTER="$TIMES"
compare "$WORK/local" "$WORK/cluster" "cluster run"

if [[ $KILL -eq 1 ]]; then
  log "kill run into $WORK/kill: worker 1 is killed with SIGKILL during $KILL_STAGE"
  T0=$(date +%s); run_chain kill "$MASTER_URL" "$WORK/kill" kill; T_KILL=$(( $(date +%s) - T0 )); TIMES_KILL="$TIMES"
  kill_report
  compare "$WORK/local" "$WORK/kill" "kill run"
fi

log "seconds per submission:"
printf '    local:   %s\n    cluster: %s\n' "${TIMES_LOCAL%, }" "${TIMES_CLUSTER%, }" >&2
[[ $KILL -eq 0 ]] || printf '    kill:    %s\n' "${TIMES_KILL%, }" >&2
log "OK: local ${T_LOCAL}s, cluster ${T_CLUSTER}s${T_KILL:+, kill run ${T_KILL}s}; total $(( $(date +%s) - T_START ))s"
