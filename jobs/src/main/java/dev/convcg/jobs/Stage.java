package dev.convcg.jobs;

/** One step of the pipeline, run by {@link Main}: reads its inputs, calls pipeline-core/model, writes its outputs. */
public interface Stage {
    /** The name used on the command line, e.g. {@code simulate}. */
    String name();

    /** Runs the stage; returns the output row counts for the closing summary line. Throws on any failure. */
    StageReport run(StageContext context) throws Exception;
}
