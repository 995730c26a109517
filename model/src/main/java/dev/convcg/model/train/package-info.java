/**
 * The training loop of the two-tower model: {@link TwoTowerTrainer} runs forward, loss, backward and
 * {@link StatefulAdam} (dense or row-sparse) steps over any per-epoch {@link EpochSource} of batches, on one or several
 * devices, with a learning-rate schedule and resumable checkpoints. Its parts sit beside it, one class each: row-sparse
 * table updates, the data-parallel forward, gradient clipping, step timing and metric names; its side concerns are DJL
 * training listeners: the ETA, the {@link ProgressLoggingListener}, the checkpoint cadence and {@link EarlyStopping}. It takes batches from an iterator and knows
 * nothing of where they come from, so the same trainer runs inside a Spark task, in tests and in the benchmark; it must
 * not depend on Spark, Delta or the config library.
 */
package dev.convcg.model.train;
