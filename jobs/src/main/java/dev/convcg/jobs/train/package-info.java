/**
 * The Spark side of training: {@link ModelInputs} turns the data side's feature columns into the primitive columns the
 * towers read, {@link EpochStream} serves one Spark task's sorted stream as batches of positives with hard-negative
 * columns, {@link TrainTask} runs the model's trainer in that task with validation and early stopping, and
 * {@link ModelStore} publishes versioned artifacts behind {@code LATEST}. It also refits the re-engagement biases on
 * validation positives after training. It bridges Spark rows and the model module, which itself has no Spark; the
 * evaluation days are never read here.
 */
package dev.convcg.jobs.train;
