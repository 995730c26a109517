package dev.convcg.tools.ops;

import dev.convcg.jobs.SparkSessions;
import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.StorageLayout;
import dev.convcg.jobs.io.TextTable;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * Runs SQL over the pipeline's tables for inspection: every Delta table under {@code <storage.root>/tables} and every
 * embedding table under the embeddings root is registered as a view of its name.
 * {@code scripts/sql.sh [--config FILE] "SELECT task, count(*) FROM training_examples GROUP BY task"}.
 */
public final class Sql {
    private Sql() {}

    public static void main(String[] args) throws Exception {
        File config = null;
        String query = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                config = new File(args[++i]);
            } else {
                query = args[i];
            }
        }
        if (query == null) {
            System.err.println("usage: sql.sh [--config FILE] \"SQL\"");
            System.exit(2);
        }
        PipelineConfig c = PipelineConfig.load(config, Map.of());
        SparkSession spark = SparkSessions.create(c.spark());
        register(spark, Path.of(c.storageRoot(), StorageLayout.TABLES), "delta");
        Path embeddings = Path.of(c.inferEmbeddings().outputRoot());
        if (Files.isDirectory(embeddings)) {
            try (Stream<Path> tables = Files.list(embeddings)) {
                tables.filter(Files::isDirectory)
                        .filter(p -> !p.getFileName().toString().startsWith("_"))
                        .forEach(p -> spark.read()
                                .parquet(p.toString())
                                .createOrReplaceTempView(p.getFileName().toString()));
            }
        }
        System.out.println(TextTable.render(spark.sql(query), 200));
        spark.stop();
    }

    private static void register(SparkSession spark, Path dir, String format) throws Exception {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> tables = Files.list(dir)) {
            tables.filter(p -> Files.isDirectory(p.resolve("_delta_log")))
                    .forEach(p -> spark.read()
                            .format(format)
                            .load(p.toString())
                            .createOrReplaceTempView(p.getFileName().toString()));
        }
    }
}
