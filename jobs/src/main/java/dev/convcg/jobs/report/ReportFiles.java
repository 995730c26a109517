package dev.convcg.jobs.report;

import dev.convcg.jobs.io.StorageLayout;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * Writes a run's report files under {@code <storage root>/reports/<run date>/} through Hadoop's file system, so a
 * local directory, HDFS or an object store all work. A rerun replaces the files.
 */
public final class ReportFiles {
    public static final String METRICS_JSON = "metrics.json";
    public static final String REPORT_HTML = "report.html";

    private ReportFiles() {}

    /** Directory of a run's reports. */
    public static String directory(String storageRoot, LocalDate runDate) {
        return StorageLayout.reports(storageRoot, runDate);
    }

    /** Writes metrics.json and report.html; returns their directory. */
    public static String write(SparkSession spark, String storageRoot, EvaluationReport report) throws IOException {
        String dir = directory(storageRoot, report.runDate());
        write(spark, new Path(dir, METRICS_JSON), MetricsJson.render(report));
        write(spark, new Path(dir, REPORT_HTML), ReportHtml.render(report));
        return dir;
    }

    private static void write(SparkSession spark, Path file, String text) throws IOException {
        FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
        try (OutputStream out = fs.create(file, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
