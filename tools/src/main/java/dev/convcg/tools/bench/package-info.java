/**
 * End-to-end benchmarks of the Spark stages (import, simulation, build-training-data, inference, the online A/B replay
 * and the whole nightly chain at several daily impression volumes), most of them timed against a bare-Spark or libtorch
 * limit measured in the same JVM; {@link NightlyScaleBenchmark} and {@link InferenceBenchmark} are the central ones,
 * and {@link SparkStageTimes} shows where a job's time went. They are run by {@code scripts/bench.sh}, not by the
 * tests, and are kept apart because no stage may depend on them.
 */
package dev.convcg.tools.bench;
