# Sourced by the scripts: builds the project when a source is newer than the last build, then runs a main class
# on the embedded Spark with the JVM flags Spark needs on Java 17.
#   convcg_java MAIN_CLASS [ARGS...]
VERSION=0.1.0-SNAPSHOT
# The tools module depends on every other module, so its classpath holds the pipeline and the benchmark/ops programs.
TOOLS_JAR="tools/target/tools-$VERSION.jar"
CLASSPATH_FILE="tools/target/classpath.txt"
SPARK_JAVA_OPTS="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"

# One reactor build writes tools/target/classpath.txt, so this checkout's own module jars (not another checkout's
# in ~/.m2) and every dependency scope (Spark is "provided" for spark-submit, needed here) are on it.
convcg_build_if_stale() {
  if [[ ! -f "$TOOLS_JAR" || ! -f "$CLASSPATH_FILE" \
        || -n "$(find pom.xml */pom.xml */src/main -newer "$CLASSPATH_FILE" -print -quit 2>/dev/null)" ]]; then
    echo "[convcg] building (mvn -DskipTests install)..." >&2
    mvn -B -ntp -q -Dstyle.color=never -DskipTests install dependency:build-classpath \
      -Dmdep.outputFile=target/classpath.txt -DincludeScope=test -DexcludeClassifiers=tests -DexcludeArtifactIds=junit-jupiter,junit-jupiter-api,junit-jupiter-engine,junit-jupiter-params,junit-platform-commons,junit-platform-engine,opentest4j,apiguardian-api,slf4j-simple >&2
  fi
}

convcg_java() {
  local main="$1"; shift
  convcg_build_if_stale
  export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
  # Spark's BLAS (ALS, the evaluation's top-K sgemm): a system OpenBLAS when installed (docs/operations.md), one
  # thread per task; otherwise the Java Vector API implementation, 2x the plain-Java one.
  export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
  local cp="$TOOLS_JAR:$(cat "$CLASSPATH_FILE")"
  # shellcheck disable=SC2086
  exec java -Xmx"${CONVCG_DRIVER_MEMORY:-8g}" $SPARK_JAVA_OPTS --add-modules=jdk.incubator.vector -Dai.djl.offline=true \
    -Dlog4j2.configurationFile=jobs/src/main/resources/log4j2-convcg.properties \
    ${CONVCG_JAVA_OPTS:-} -cp "$cp" "$main" "$@"
}
