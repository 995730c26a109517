package dev.convcg.jobs;

import dev.convcg.jobs.config.PipelineConfig.SparkSettings;
import org.apache.spark.sql.SparkSession;

/** Builds the job's SparkSession: Delta enabled, UTC session time, loopback binding in local mode. */
public final class SparkSessions {
    private SparkSessions() {}

    public static SparkSession create(SparkSettings s) {
        SparkSession.Builder b = SparkSession.builder()
                .appName(s.appName())
                .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", String.valueOf(s.shufflePartitions()));
        if (!s.master().isBlank()) {
            b.master(s.master());
            if (s.master().startsWith("local")) {
                b.config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.driver.host", "127.0.0.1")
                        .config("spark.ui.enabled", "false")
                        .config("spark.databricks.delta.snapshotPartitions", "2");
            }
        }
        s.conf().forEach(b::config);
        return b.getOrCreate();
    }
}
