package dev.convcg.jobs.stages;

import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.StageReport;
import dev.convcg.jobs.config.PipelineConfig;

/**
 * The two retrievers a run builds: the conversion model and, with {@code engagement-retriever.enabled}, the
 * click-trained engagement retriever ({@link PipelineConfig#engagementRetrieverConfig}), each through the same stage
 * work with its own configuration.
 */
final class Retrievers {
    /** A stage's work for one retriever's configuration. */
    interface Work {
        StageReport run(StageContext ctx) throws Exception;
    }

    /** Prefix of the engagement retriever's outputs in a stage report. */
    static final String ENGAGEMENT_REPORT_PREFIX = PipelineConfig.ENGAGEMENT_RETRIEVER_SUFFIX.substring(1) + ":";

    private Retrievers() {}

    /**
     * Runs {@code work} for the conversion model, then as the step {@code engagementStep} for the engagement retriever
     * when it is enabled; the latter's outputs join the report prefixed {@code engagement-only:}.
     */
    static StageReport both(StageContext ctx, String engagementStep, Work work) throws Exception {
        StageReport report = work.run(ctx);
        if (ctx.config().engagementRetriever()) {
            StageContext sub = new StageContext(
                    ctx.spark(), ctx.config().engagementRetrieverConfig(), ctx.tables(), ctx.runDate());
            StageReport engagement = ctx.step(engagementStep, () -> work.run(sub));
            engagement.outputs().forEach((name, rows) -> report.output(ENGAGEMENT_REPORT_PREFIX + name, rows));
        }
        return report;
    }
}
