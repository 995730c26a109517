/**
 * The input contract of the pipeline: the schemas of the raw log tables (impressions, engagements, conversions
 * partitioned by the day they were reported, pins, users) in {@link RawTables}, the {@link Quarantine} that every stage
 * writes its rejected rows to, and the enums such as {@link Surface} that those columns hold. It is kept apart so that
 * the simulator, the importer, the training-data builder and evaluation all agree on one definition of a raw row. It
 * holds schemas only, no transformation, and depends on nothing of the project but Spark's type system.
 */
package dev.convcg.core.schema;
