/**
 * Batch inference on Spark executors: {@link EmbeddingInference} projects feature snapshot rows onto the tower's inputs
 * on the driver side, and {@link PartitionEncoder} streams each partition through the executor JVM's one shared
 * {@code TwoTowerEncoder}; {@link LibtorchBlockScorer} is the evaluation's block product on the same engine. Smoothing
 * of fresh embeddings and their publication happen afterwards, in pipeline-core and the jobs' io package.
 */
package dev.convcg.modelspark.inference;
