/**
 * One class per pipeline command: simulate, import-events, check-inputs, build-training-data, train, infer-embeddings,
 * evaluate, ablation-report and forget-users. Each stage reads its inputs through the io package, calls pipeline-core and the
 * model (for example {@link BuildTrainingDataStage} relabels the lookback days with late conversions,
 * {@link TrainStage} trains the two-tower in one Spark task through model-spark and refits its re-engagement biases
 * with {@link ReengagementCalibrator}, {@link InferEmbeddingsStage} publishes smoothed embeddings
 * and {@link EvaluateStage} measures recall against the baselines), and writes its outputs. No stage calls another:
 * what two stages share sits in a plain class ({@link Evaluation}: the inputs and scoring of {@code evaluate} and
 * {@code ablation-report}), and a chain of stages ({@code nightly}, {@code ablate}) is built in {@code Main}. The stages
 * are deliberately thin orchestration: the transformations and the model math belong in pipeline-core and model.
 */
package dev.convcg.jobs.stages;
