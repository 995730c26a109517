/**
 * The {@code build-training-data} transformation: from the raw tables to labelled training examples and the user and
 * pin feature snapshots the two-tower model reads. {@link TrainingDataBuilder} chains raw-row validation into the
 * quarantine, {@link ConversionAttribution} (late offsite conversions credited to a click or impression inside the
 * click-through or view-through attribution window), the {@link ExampleLabeler}'s conversion and engagement positives
 * and hard negatives, the logQ sampling probabilities and {@link FeatureBuilder}'s leak-free features. Its output
 * schemas are the contract with the model, yet it does not depend on the model module: it is pure
 * {@code Dataset -> Dataset} code, with no I/O and no config library.
 */
package dev.convcg.core.training;
