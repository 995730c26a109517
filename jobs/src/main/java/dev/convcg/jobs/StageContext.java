package dev.convcg.jobs;

import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import java.time.LocalDate;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Everything a stage needs: the session, the bound config, the table store and the run date. */
public record StageContext(SparkSession spark, PipelineConfig config, DeltaTables tables, LocalDate runDate) {
    private static final Logger LOG = LoggerFactory.getLogger("dev.convcg.jobs.Stage");

    /** Runs {@code step}, logging its elapsed time. */
    public <T> T step(String name, java.util.concurrent.Callable<T> step) throws Exception {
        long t0 = System.nanoTime();
        T result = step.call();
        LOG.info("step {} done in {}", name, Main.seconds(System.nanoTime() - t0));
        return result;
    }
}
