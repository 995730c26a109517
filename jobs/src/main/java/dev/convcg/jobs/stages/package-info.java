/**
 * One class per pipeline command: simulate, import-events, check-inputs, build-training-data, train, infer-embeddings,
 * evaluate, ablate and forget-users. Each stage reads its inputs through the io package, calls pipeline-core and the
 * model (for example {@link BuildTrainingDataStage} relabels the lookback days with late conversions,
 * {@link TrainStage} trains the two-tower in one Spark task through model-spark and refits its re-engagement biases
 * with {@link ReengagementCalibrator}, {@link InferEmbeddingsStage} publishes smoothed embeddings
 * and {@link EvaluateStage} measures recall against the baselines), and writes its outputs. The stages are deliberately
 * thin orchestration: the transformations and the model math belong in pipeline-core and model.
 */
package dev.convcg.jobs.stages;
