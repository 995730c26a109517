/**
 * Where the pipeline's tables live and how they are written safely: {@link DeltaTables} for the raw logs, training
 * examples and feature snapshots (one Delta transaction per write, day partitions replaced idempotently),
 * {@link EmbeddingStore} for the published Parquet embeddings (staged, renamed, then marked), {@link WriteJournal} to
 * make a multi-table write all-or-nothing, {@link ModelStore} for versioned model artifacts behind {@code LATEST}, and
 * the stage success markers. All reading and writing is gathered here so
 * that pipeline-core can stay pure {@code Dataset -> Dataset} code and the stages stay thin.
 */
package dev.convcg.jobs.io;
