/**
 * The Spark side of training: {@link TrainingSchema} fits the model's features to the data (history length, hashed-id
 * tables sized to the window's ids), {@link ModelInputs} turns the data side's feature columns into the primitive
 * columns the towers read, {@link EpochOrder} lays out every epoch's shuffled rows as one sorted stream,
 * {@link EpochStream} serves one Spark task's stream as batches of positives with hard-negative columns, and
 * {@link TrainTask} runs the model's trainer in that task (described by a {@link TrainSpec}) with validation and early
 * stopping. It bridges Spark rows and the model module, which itself has no Spark; it takes plain arguments and never
 * the pipeline's config (the build forbids the jobs module and the config library here).
 */
package dev.convcg.modelspark.train;
