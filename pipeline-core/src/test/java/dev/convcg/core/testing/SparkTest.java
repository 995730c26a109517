package dev.convcg.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that hands tests the one local SparkSession of this JVM: Delta enabled, UI off, bound to
 * 127.0.0.1, two shuffle partitions. Starting Spark costs seconds, so the session is created once and stopped by a
 * shutdown hook. Use with {@code @ExtendWith(SparkTest.class)} and a {@code SparkSession} parameter.
 */
public final class SparkTest implements ParameterResolver {
    private static volatile SparkSession session;

    /** The shared session, created on first use. */
    public static SparkSession session() {
        if (session == null) {
            synchronized (SparkTest.class) {
                if (session == null) {
                    session = create();
                }
            }
        }
        return session;
    }

    private static SparkSession create() {
        try {
            Path warehouse = Files.createTempDirectory("convcg-spark-warehouse");
            SparkSession s = SparkSession.builder()
                    .master("local[2]")
                    .appName("convcg-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.default.parallelism", "2")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.sql.warehouse.dir", warehouse.toString())
                    .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                    .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                    .config("spark.databricks.delta.snapshotPartitions", "2")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(s::stop));
            return s;
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the Spark warehouse directory", e);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == SparkSession.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return session();
    }
}
