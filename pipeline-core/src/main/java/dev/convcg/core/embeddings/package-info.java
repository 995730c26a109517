/**
 * Turns a day's fresh pin and user embeddings into the day's published ones: DERM-style smoothing (moving average or
 * average pooling against the previously published day, re-normalised to unit length), carry-over of entities not seen
 * today and retention, all in {@link EmbeddingSmoother} as configured by {@link SmoothingSettings}. {@link LineageRule}
 * refuses to average the vector spaces of two unrelated models. It is kept apart from inference so the publishing rules
 * are plain, testable {@code Dataset -> Dataset} math: the model runs elsewhere (jobs), and nothing here reads or
 * writes a table.
 */
package dev.convcg.core.embeddings;
