package dev.convcg.tools.bench;

import dev.convcg.jobs.config.PipelineConfig;
import dev.convcg.jobs.stages.TrainStage;
import dev.convcg.model.bench.TrainingBenchmark;
import dev.convcg.model.config.TrainerConfig;
import java.util.List;

/**
 * Training throughput of the model the pipeline ships, against libtorch's matmul on its GEMM shapes
 * ({@link TrainingBenchmark}): the model, feature schema and trainer are bound from reference.conf, the one source
 * of defaults, so the figures describe what {@code train} runs. Not a test: {@code scripts/bench.sh model}.
 *
 * <p>Usage: {@code ModelTrainingBenchmark [seconds=60] [batch] [hardNegatives] [threads=0] [key=value]...}; batch
 * and hardNegatives default to {@code train.batch-size} and {@code model.hard-negatives.max-count}, threads 0 keeps
 * libtorch's default (all cores), and each {@code key=value} overrides a configuration key below {@code convcg}.
 */
public final class ModelTrainingBenchmark {
    private ModelTrainingBenchmark() {}

    public static void main(String[] args) {
        BenchArgs parsed = BenchArgs.parse(args);
        List<String> positional = parsed.positional();
        PipelineConfig config = PipelineConfig.load(null, parsed.overrides());
        double seconds = positional.size() > 0 ? Double.parseDouble(positional.get(0)) : 60;
        TrainerConfig trainer = config.train().trainer().withLogEveryNSteps(1_000_000);
        if (positional.size() > 1) {
            trainer = trainer.withBatchSize(Integer.parseInt(positional.get(1)));
        }
        int hard = positional.size() > 2
                ? Integer.parseInt(positional.get(2))
                : config.model().hardNegatives().maxCount();
        trainer = trainer.withIntraOpThreads(positional.size() > 3 ? Integer.parseInt(positional.get(3)) : 0);
        TrainingBenchmark.run(config.model(), TrainStage.schema(config), trainer, seconds, hard);
    }
}
