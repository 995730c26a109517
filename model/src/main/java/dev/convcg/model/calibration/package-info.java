/**
 * Post-training calibration of the re-engagement biases: {@link ReengagementCalibration} refits, with the towers
 * frozen and on held-out positives, the bias a pin gets for being in the user's own history, so that it holds against
 * the whole catalog rather than a training batch. It is separate from training because it runs once after it, on
 * validation data, and only changes the biases stored in the artifact. Plain Java and DJL on collected embeddings; the
 * Spark side that gathers them lives in the jobs module.
 */
package dev.convcg.model.calibration;
