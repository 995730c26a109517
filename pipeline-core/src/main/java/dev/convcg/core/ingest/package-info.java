/**
 * Maps a real event log (one row per user action, CSV or Parquet already read by the caller) onto the raw tables, so
 * real logs enter the pipeline through the same contract as simulated ones. {@link EventImporter} gives each source row
 * either a mapping or one quarantine reason, as configured by {@link ImportSettings} and with times read by
 * {@link TimestampParser}; what such logs lack (unengaged impressions, so no served hard negatives; conversion report
 * lag) is filled in plainly. Like the rest of pipeline-core it is a pure {@code Dataset -> Dataset} transformation: it
 * reads and writes no table and never sees the config library, which only the jobs module binds.
 */
package dev.convcg.core.ingest;
