/**
 * A trained model as it leaves training and enters serving: {@link ModelArtifact}, a directory of DJL parameters plus
 * JSON metadata (model config, feature hashing spec, config hash), and {@link TwoTowerEncoder}, the thread-safe
 * inference API that turns user or pin feature batches into L2-normalised embeddings of the served conversion head. It
 * is separate from training so that inference (the {@code infer-embeddings} stage's executors) needs only the artifact
 * and this encoder. No Spark here: the jobs module calls the encoder from {@code mapPartitions}.
 */
package dev.convcg.model.artifact;
