package dev.convcg.model.train;

/**
 * Result of one epoch.
 *
 * @param epoch 0-based epoch index
 * @param steps optimizer steps in this epoch (including steps done before a resume)
 * @param examples softmax rows seen
 * @param seconds wall time of this epoch in this process
 * @param train row-weighted mean training loss terms
 * @param validation row-weighted mean validation loss terms, or null without validation data
 */
public record EpochMetrics(
        int epoch, long steps, long examples, double seconds, LossValues train, LossValues validation) {}
