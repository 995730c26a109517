/**
 * The unit the trainer consumes: {@link TrainingBatch}, B conversion or engagement softmax rows with their example
 * weights and logQ sampling probabilities, plus H shared hard-negative pin columns, and the {@link Task} label of each
 * row. It is the boundary between whatever produces batches (the jobs module's Spark stream, the benchmark's synthetic
 * data) and the trainer, and holds no Spark or tensor code itself.
 */
package dev.convcg.model.data;
