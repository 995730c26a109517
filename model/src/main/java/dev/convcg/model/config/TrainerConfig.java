package dev.convcg.model.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Optimisation, scheduling, checkpointing and device settings of {@code TwoTowerTrainer}. {@link #defaults()} are the
 * settings the pipeline ships (the {@code train} section of the jobs' reference.conf; a jobs test keeps them equal).
 *
 * @param optimizer ADAM (L2 added to the gradient) or ADAMW (decoupled decay)
 * @param learningRate peak learning rate
 * @param weightDecay L2 (ADAM) or decoupled (ADAMW) decay
 * @param schedule learning-rate schedule
 * @param gradClipNorm global L2 norm the gradient is clipped to; 0 disables
 * @param seed seed for parameter initialisation
 * @param batchSize nominal rows per batch (used by the data side and the benchmark)
 * @param epochs passes over the data
 * @param checkpointEveryNSteps checkpoint period in optimizer steps (0 = only at epoch ends)
 * @param checkpointDir checkpoint directory; empty disables checkpoints
 * @param keepCheckpoints how many most recent checkpoints to keep
 * @param resume resume from the latest checkpoint in {@code checkpointDir} when one exists
 * @param devices "cpu" or a comma list like "gpu:0,gpu:1"
 * @param fallbackToCpu if a requested GPU is missing, train on CPU instead of failing
 * @param intraOpThreads libtorch intra-op threads; 0 keeps libtorch's
 * @param logEveryNSteps progress log period
 * @param sparseEmbeddingUpdates row-sparse ("lazy") Adam/AdamW for the embedding tables: only the
 *     rows a batch reads get a gradient, moments and an update (untouched rows' moments do not
 *     decay, and weight decay reaches a row only on steps that touch it); false = dense Adam over
 *     every table row, as for the dense layers. Single-device training only (several devices train
 *     densely)
 */
public record TrainerConfig(
        Optimizer optimizer,
        float learningRate,
        float weightDecay,
        ScheduleConfig schedule,
        float gradClipNorm,
        int seed,
        int batchSize,
        int epochs,
        int checkpointEveryNSteps,
        String checkpointDir,
        int keepCheckpoints,
        boolean resume,
        String devices,
        boolean fallbackToCpu,
        int intraOpThreads,
        int logEveryNSteps,
        boolean sparseEmbeddingUpdates) {

    public TrainerConfig {
        Checks.notNull("trainer.optimizer", optimizer);
        Checks.positive("trainer.learningRate", learningRate);
        Checks.nonNegative("trainer.weightDecay", weightDecay);
        Checks.notNull("trainer.schedule", schedule);
        Checks.nonNegative("trainer.gradClipNorm", gradClipNorm);
        Checks.positive("trainer.batchSize", batchSize);
        Checks.positive("trainer.epochs", epochs);
        Checks.nonNegative("trainer.checkpointEveryNSteps", checkpointEveryNSteps);
        checkpointDir = checkpointDir == null ? "" : checkpointDir;
        Checks.positive("trainer.keepCheckpoints", keepCheckpoints);
        Checks.notNull("trainer.devices", devices);
        parseDevices(devices);
        Checks.nonNegative("trainer.intraOpThreads", intraOpThreads);
        Checks.positive("trainer.logEveryNSteps", logEveryNSteps);
    }

    /** The fields before {@code sparseEmbeddingUpdates} existed; sparse updates default to on. */
    public TrainerConfig(
            Optimizer optimizer,
            float learningRate,
            float weightDecay,
            ScheduleConfig schedule,
            float gradClipNorm,
            int seed,
            int batchSize,
            int epochs,
            int checkpointEveryNSteps,
            String checkpointDir,
            int keepCheckpoints,
            boolean resume,
            String devices,
            boolean fallbackToCpu,
            int intraOpThreads,
            int logEveryNSteps) {
        this(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                true);
    }

    public static TrainerConfig defaults() {
        return new TrainerConfig(
                Optimizer.ADAMW,
                2e-3f,
                1e-5f,
                ScheduleConfig.defaults(),
                1.0f,
                42,
                1024,
                3,
                100,
                "",
                2,
                true,
                "cpu",
                false,
                0,
                50,
                true);
    }

    public TrainerConfig withLearningRate(float lr) {
        return new TrainerConfig(
                optimizer,
                lr,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withSchedule(ScheduleConfig s) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                s,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withEpochs(int e) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                e,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withCheckpoints(String dir, int everyNSteps) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                everyNSteps,
                dir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withDevices(String d, boolean fallback) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                d,
                fallback,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withSeed(int s) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                s,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withBatchSize(int b) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                b,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withOptimizer(Optimizer o, float wd, float clipNorm) {
        return new TrainerConfig(
                o,
                learningRate,
                wd,
                schedule,
                clipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withLogEveryNSteps(int n) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                n,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withIntraOpThreads(int n) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                n,
                logEveryNSteps,
                sparseEmbeddingUpdates);
    }

    public TrainerConfig withSparseEmbeddingUpdates(boolean sparse) {
        return new TrainerConfig(
                optimizer,
                learningRate,
                weightDecay,
                schedule,
                gradClipNorm,
                seed,
                batchSize,
                epochs,
                checkpointEveryNSteps,
                checkpointDir,
                keepCheckpoints,
                resume,
                devices,
                fallbackToCpu,
                intraOpThreads,
                logEveryNSteps,
                sparse);
    }

    /**
     * Parses a device list: "cpu", or "gpu:0,gpu:1" (also "gpu" = gpu:0).
     *
     * @return -1 for cpu, else GPU indices in order
     */
    public static List<Integer> parseDevices(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        List<Integer> gpus = new ArrayList<>();
        if (s.equals("cpu")) {
            gpus.add(-1);
            return gpus;
        }
        for (String part : s.split(",")) {
            String p = part.trim();
            int idx;
            if (p.equals("gpu")) {
                idx = 0;
            } else if (p.startsWith("gpu:")) {
                try {
                    idx = Integer.parseInt(p.substring(4));
                } catch (NumberFormatException e) {
                    idx = -1;
                }
            } else {
                idx = -1;
            }
            Checks.require(
                    idx >= 0 && !gpus.contains(idx),
                    "trainer.devices",
                    spec,
                    "\"cpu\" or a list of distinct \"gpu:<index>\" such as \"gpu:0,gpu:1\"");
            gpus.add(idx);
        }
        return gpus;
    }

    /** Optimizer family. */
    public enum Optimizer {
        ADAM,
        ADAMW
    }

    /** Learning-rate schedule family. */
    public enum ScheduleKind {
        /** Constant learning rate after the warm-up. */
        CONSTANT,
        /** Linear warm-up, then cosine decay to {@code minLrFraction × lr}. */
        WARMUP_COSINE,
        /** Linear warm-up, then multiply by {@code stepFactor} every {@code stepEvery} steps. */
        STEP
    }

    /**
     * Learning-rate schedule.
     *
     * @param kind CONSTANT, WARMUP_COSINE or STEP
     * @param warmupSteps linear warm-up length
     * @param decaySteps cosine length after warm-up
     * @param minLrFraction floor of the cosine as a fraction of the peak
     * @param stepEvery STEP period
     * @param stepFactor STEP multiplier
     */
    public record ScheduleConfig(
            ScheduleKind kind, int warmupSteps, int decaySteps, float minLrFraction, int stepEvery, float stepFactor) {
        public ScheduleConfig {
            Checks.notNull("trainer.schedule.kind", kind);
            Checks.nonNegative("trainer.schedule.warmupSteps", warmupSteps);
            Checks.positive("trainer.schedule.decaySteps", decaySteps);
            Checks.inRange("trainer.schedule.minLrFraction", minLrFraction, 0, 1);
            Checks.positive("trainer.schedule.stepEvery", stepEvery);
            Checks.require(
                    stepFactor > 0 && stepFactor <= 1, "trainer.schedule.stepFactor", stepFactor, "a number in (0, 1]");
        }

        public static ScheduleConfig defaults() {
            return new ScheduleConfig(ScheduleKind.WARMUP_COSINE, 50, 2000, 0.05f, 5000, 0.5f);
        }

        public static ScheduleConfig constant() {
            return new ScheduleConfig(ScheduleKind.CONSTANT, 0, 1, 0f, 1, 1f);
        }
    }
}
