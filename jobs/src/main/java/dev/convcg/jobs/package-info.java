/**
 * The entry point of every pipeline stage: {@link Main} binds the configuration, starts Spark ({@link SparkSessions}),
 * runs one {@link Stage} with its {@link StageContext} and ends with one summary line and an exit code a scheduler can
 * act on (2: bad configuration, 3: inputs missing). The jobs module is the only place where the config library, table
 * I/O, pipeline-core and the model meet; this package holds only the dispatch and the shared stage contract, the stages
 * themselves live in {@code dev.convcg.jobs.stages}.
 */
package dev.convcg.jobs;
