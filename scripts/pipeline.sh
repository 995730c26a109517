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

VERSION=0.1.0-SNAPSHOT
JOBS_JAR="jobs/target/jobs-$VERSION.jar"
CLASSPATH_FILE="jobs/target/classpath.txt"
SPARK_JAVA_OPTS="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"

if [[ $DRY_RUN -eq 1 ]]; then
  printf 'spark-submit --class dev.convcg.jobs.Main \\\n'
  printf '  --conf "spark.driver.extraJavaOptions=-Dai.djl.offline=true" \\\n'
  printf '  --conf "spark.executor.extraJavaOptions=-Dai.djl.offline=true" \\\n'
  printf '  jobs/target/jobs-%s-all.jar' "$VERSION"
  printf ' %q' "${ARGS[@]}"
  printf '\n# build the jar with: mvn -B -ntp -Pdist -DskipTests package (see README, "Running on a cluster")\n'
  exit 0
fi

stale() {
  [[ ! -f "$JOBS_JAR" || ! -f "$CLASSPATH_FILE" ]] && return 0
  [[ -n "$(find pom.xml */pom.xml */src/main -newer "$CLASSPATH_FILE" -print -quit 2>/dev/null)" ]]
}
if stale; then
  echo "[pipeline] building (mvn -DskipTests install)..." >&2
  mvn -B -ntp -q -DskipTests install >&2
  mvn -B -ntp -q -pl jobs dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime >&2
  mvn -B -ntp -q -pl jobs dependency:build-classpath -Dmdep.outputFile=target/classpath-provided.txt -Dmdep.includeScope=provided >&2
fi

export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
CP="$JOBS_JAR:$(cat "$CLASSPATH_FILE"):$(cat jobs/target/classpath-provided.txt)"
exec java -Xmx"${CONVCG_DRIVER_MEMORY:-8g}" $SPARK_JAVA_OPTS -Dai.djl.offline=true \
  -Dlog4j2.configurationFile=jobs/src/main/resources/log4j2-convcg.properties \
  ${CONVCG_JAVA_OPTS:-} -cp "$CP" dev.convcg.jobs.Main "${ARGS[@]}"
