package dev.convcg.jobs.stages;

import static org.junit.jupiter.api.Assertions.*;

import dev.convcg.core.testing.SparkTest;
import dev.convcg.jobs.Main;
import dev.convcg.jobs.TestConfigs;
import dev.convcg.jobs.config.PipelineConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.OutputStreamAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Fault drill: a corrupt Parquet file in the raw input fails the stage, and the failure names the file. */
@ExtendWith(SparkTest.class)
class CorruptInputTest {
    @Test
    void aCorruptInputFileFailsTheStageNamingTheFile(SparkSession spark, @TempDir Path root) throws Exception {
        PipelineConfig c = TestConfigs.tiny(root, "run-date", "2026-10-06");
        assertEquals(Main.EXIT_OK, Main.run("simulate", c, spark));
        Path corrupt;
        try (Stream<Path> files = Files.walk(root.resolve("tables/impressions"))) {
            corrupt = files.filter(p -> p.toString().contains("ds=2026-10-05")
                            && p.toString().endsWith(".parquet"))
                    .findFirst()
                    .orElseThrow();
        }
        Files.write(corrupt, "this is not a parquet file".getBytes(StandardCharsets.UTF_8));

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Logger main = (Logger) LogManager.getLogger(Main.class);
        OutputStreamAppender appender = OutputStreamAppender.newBuilder()
                .setName("capture")
                .setTarget(new PrintStream(log, true, StandardCharsets.UTF_8))
                .setLayout(PatternLayout.newBuilder().withPattern("%m%n").build())
                .build();
        appender.start();
        main.addAppender(appender);
        try {
            assertEquals(Main.EXIT_FAILED, Main.run("build-training-data", c, spark));
        } finally {
            main.removeAppender(appender);
        }
        String summary = log.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(l -> l.startsWith("SUMMARY"))
                .reduce((a, b) -> b)
                .orElseThrow();
        assertTrue(summary.contains("status=FAILED"), summary);
        assertTrue(summary.contains(corrupt.getFileName().toString()), "the failure names the file: " + summary);
    }
}
