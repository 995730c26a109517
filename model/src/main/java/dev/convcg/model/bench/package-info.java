/**
 * The model-only training benchmark: {@link TrainingBenchmark} measures training throughput of the two-tower on
 * {@link SyntheticBatches} and compares its achieved FLOP/s with libtorch's dense matmul rate on the model's own GEMM
 * shapes (towers, cross layers, MLP, heads, logits). It runs without Spark or any pipeline data, so it isolates the
 * model's cost from the data side's; it has no configuration of its own: the jobs module's
 * {@code ModelTrainingBenchmark} binds the shipped one and calls it.
 */
package dev.convcg.model.bench;
