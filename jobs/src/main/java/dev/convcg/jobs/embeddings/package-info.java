/**
 * Batch inference of pin and user embeddings on Spark executors: {@link EmbeddingInference} projects feature snapshot
 * rows onto the tower's inputs on the driver side, and {@link PartitionEncoder} streams each partition through the
 * executor JVM's one shared {@code TwoTowerEncoder}. It is separate from the {@code infer-embeddings} stage so the
 * inference path can be benchmarked and tested alone; smoothing of the fresh embeddings and their publication happen
 * afterwards, in pipeline-core and the io package.
 */
package dev.convcg.jobs.embeddings;
