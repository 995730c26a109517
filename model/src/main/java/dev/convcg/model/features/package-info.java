/**
 * The feature hashing spec of both towers and its tensorisation: {@link FeatureSchema} and {@link FeatureSpec} say
 * which id, id-sequence, numeric and vector inputs each tower reads, {@link FeatureHashing} maps ids to embedding-table
 * rows with a stable function, and {@link FeatureTensors} turns a column-wise {@link FeatureBatch} into the tower's
 * input tensors. It is separate so that training, batch inference and serving share one definition of the model's
 * inputs; the spec travels inside the model artifact. Like the whole model module it has no Spark: batches arrive as
 * primitive arrays.
 */
package dev.convcg.model.features;
