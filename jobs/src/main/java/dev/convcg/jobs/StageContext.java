package dev.convcg.jobs;

import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.io.DeltaTables;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Everything a stage needs: the session, the bound config, the table store and the run date. */
public record StageContext(SparkSession spark, PipelineConfig config, DeltaTables tables, LocalDate runDate) {
    private static final Logger LOG = LoggerFactory.getLogger("dev.convcg.jobs.Stage");

    /**
     * Runs {@code step}, logging its elapsed time. Its Spark jobs carry the step's name and run date as their job
     * description, so the Spark UI shows "train 3 epoch(s) (2026-10-11)" rather than a call site; a nested step
     * names its jobs while it runs and gives the name back after.
     */
    public <T> T step(String name, Callable<T> step) throws Exception {
        long t0 = System.nanoTime();
        String outer = spark.sparkContext().getLocalProperty(JOB_DESCRIPTION);
        spark.sparkContext().setJobDescription(name + " (" + runDate + ")");
        T result;
        try {
            result = step.call();
        } finally {
            spark.sparkContext().setJobDescription(outer);
        }
        LOG.info("step {} done in {}", name, Main.seconds(System.nanoTime() - t0));
        return result;
    }

    /** Spark's local property behind {@code SparkContext.setJobDescription}. */
    private static final String JOB_DESCRIPTION = "spark.job.description";
}
