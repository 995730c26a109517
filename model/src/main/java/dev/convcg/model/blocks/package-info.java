/**
 * The DJL blocks of the two-tower network: shared hashed-id {@link EmbeddingTables}, the feature embedding with mean or
 * attention pooling of pin sequences, DCNv2 cross layers ({@link CrossLayer}) and an MLP arranged in parallel or
 * stacked in each {@link Tower}, and the whole {@link TwoTowerBlock} with its per-task heads, learned temperature and
 * re-engagement biases. It holds the forward math only; the loss, the optimiser and the training loop live in their own
 * packages, and nothing here knows Spark.
 */
package dev.convcg.model.blocks;
