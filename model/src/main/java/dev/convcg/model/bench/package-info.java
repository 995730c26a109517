/**
 * The model-only training benchmark: {@link TrainingBenchmark} measures training throughput of the two-tower on
 * {@link SyntheticBatches} and compares its achieved FLOP/s with libtorch's dense matmul rate on the model's own GEMM
 * shapes (towers, cross layers, MLP, heads, logits). It is kept apart from the production classes and runs without
 * Spark or any pipeline data, so it isolates the model's cost from the data side's.
 */
package dev.convcg.model.bench;
