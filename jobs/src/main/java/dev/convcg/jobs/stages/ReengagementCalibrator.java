package dev.convcg.jobs.stages;

import static org.apache.spark.sql.functions.*;

import ai.djl.ndarray.NDManager;
import dev.convcg.core.eval.PopularityPrior;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.training.ExampleLabeler;
import dev.convcg.core.training.TrainingDataSchemas;
import dev.convcg.jobs.StageContext;
import dev.convcg.jobs.config.PipelineConfig.ReengagementCalibrationSettings;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.calibration.ReengagementCalibration;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.config.ModelConfig.ReengagementConfig;
import dev.convcg.model.data.Task;
import dev.convcg.modelspark.inference.EmbeddingInference;
import dev.convcg.modelspark.train.ModelInputs;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spark side of {@link ReengagementCalibration}: after training, embeds a sample of the held-out (validation) positives
 * with the user tower and the catalog of the first validation day with the pin tower, collects both to the driver
 * with the catalog's popularity bins ({@link PopularityPrior}), refits the re-engagement biases and the popularity
 * prior there and stores them in the artifact, where serving and {@code evaluate} read them.
 * The rows carry the user features of their own day (history strictly before the positive), so nothing of the
 * held-out day leaks into the refit; the evaluation days are never read.
 */
public final class ReengagementCalibrator {
    private static final Logger LOG = LoggerFactory.getLogger(ReengagementCalibrator.class);

    private ReengagementCalibrator() {}

    /**
     * Refits and writes the biases into {@code artifactDir}; empty (with the reason logged) when the model has no
     * re-engagement bias or there is nothing to fit on.
     *
     * @param examples        training_examples of the window (training and validation days)
     * @param trainThrough    last training day; the rows after it are the held-out positives
     * @param durationWeights whether clicks carry their duration weight (train.duration-weights)
     */
    public static Optional<ReengagementCalibration.Result> run(
            StageContext ctx,
            Dataset<Row> examples,
            LocalDate trainThrough,
            Path artifactDir,
            boolean durationWeights,
            int seed) {
        ReengagementCalibrationSettings s = ctx.config().train().reengagementCalibration();
        // The per-JVM encoder the partition encoders reuse in local mode: the artifact is loaded once.
        TwoTowerEncoder encoder = TwoTowerEncoder.shared(artifactDir);
        ModelConfig model = encoder.artifact().model();
        float temperature = encoder.temperature();
        float[] learned = encoder.learnedReengagementBias();
        ReengagementConfig re = model.reengagement();
        if (!re.enabled()) {
            return Optional.empty();
        }
        if (!ctx.tables().exists(TrainingDataSchemas.PIN_FEATURES_TABLE)) {
            LOG.warn(
                    "re-engagement calibration skipped: no {} table at {} to take the catalog from; the model serves "
                            + "the biases training learned",
                    TrainingDataSchemas.PIN_FEATURES_TABLE,
                    ctx.tables().path(TrainingDataSchemas.PIN_FEATURES_TABLE));
            return Optional.empty();
        }
        Dataset<Row> held = examples.filter(col(RawTables.DS)
                        .gt(trainThrough.toString())
                        .and(col("task").notEqual(ExampleLabeler.NEGATIVE)))
                .withColumn("_w", model.useExampleWeights() ? ModelInputs.exampleWeight(durationWeights) : lit(1f))
                .orderBy(xxhash64(col("example_id"), lit(seed)))
                .limit(s.maxRows())
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            List<Column> meta = new ArrayList<>(List.of(col("example_id"), col("pin_id"), col("task"), col("_w")));
            re.sequences().forEach(q -> meta.add(col(q)));
            List<Row> rows = held.select(meta.toArray(Column[]::new)).collectAsList();
            String day = trainThrough.plusDays(1).toString();
            Dataset<Row> catalogFeatures = ctx.tables()
                    .readDays(TrainingDataSchemas.PIN_FEATURES_TABLE, day, day)
                    .drop(RawTables.DS);
            long catalogSize = catalogFeatures.count();
            if (rows.isEmpty() || catalogSize == 0) {
                LOG.warn(
                        "re-engagement calibration skipped: {} held-out positives after {}, {} pins in {} of {}; the model "
                                + "serves the biases training learned",
                        rows.size(),
                        trainThrough,
                        catalogSize,
                        TrainingDataSchemas.PIN_FEATURES_TABLE,
                        day);
                return Optional.empty();
            }
            Map<Object, float[]> userEmbedding = collect(EmbeddingInference.embed(
                    held,
                    List.of("example_id"),
                    true,
                    artifactDir,
                    ctx.config().inferEmbeddings().encoder(),
                    "calibration users",
                    rows.size(),
                    day));
            Map<Object, float[]> pinEmbedding = new LinkedHashMap<>(collect(EmbeddingInference.embed(
                    catalogFeatures,
                    List.of("pin_id"),
                    false,
                    artifactDir,
                    ctx.config().inferEmbeddings().encoder(),
                    "calibration catalog",
                    catalogSize,
                    day)));
            Map<Object, Integer> pinBins = new HashMap<>();
            if (s.popularityPrior()) {
                for (Row r : popularityBins(ctx, catalogFeatures, trainThrough.plusDays(1))
                        .select("pin_id", PopularityPrior.BIN)
                        .collectAsList()) {
                    pinBins.put(r.get(0), r.getInt(1));
                }
            }
            ReengagementCalibration.Problem problem =
                    problem(rows, userEmbedding, pinEmbedding, re, model, temperature, learned, pinBins);
            ReengagementCalibration.Result r;
            try (NDManager m = NDManager.newBaseManager()) {
                r = ReengagementCalibration.fit(problem, s.recallK(), s.ridge(), m);
            }
            ReengagementCalibration.write(artifactDir, r);
            LOG.info(String.format(
                    Locale.ROOT,
                    "re-engagement calibration on %d held-out positives of %s over %d pins "
                            + "(%.1f%% of them in the user's history): cross-entropy %.4f -> %.4f, recall@%d %.4f -> %.4f, "
                            + "bias %s -> %s (score units, %s), popularity prior by bin %s, %d Newton steps",
                    r.rows(),
                    day,
                    r.catalog(),
                    100 * r.historyShare(),
                    r.lossLearned(),
                    r.lossCalibrated(),
                    r.recallK(),
                    r.recallLearned(),
                    r.recallCalibrated(),
                    Arrays.toString(r.learnedBias()),
                    Arrays.toString(r.bias()),
                    re.sequences(),
                    Arrays.toString(r.popularityPrior()),
                    r.iterations()));
            return Optional.of(r);
        } finally {
            held.unpersist();
        }
    }

    /**
     * The popularity bins of {@code pins} for predicting {@code day}: their positives in training_examples over the
     * {@code training-data.feature-window-days} before it ({@link PopularityPrior#bins}). The refit and evaluate both
     * take them from here, so the prior is fitted and served on the same bins.
     */
    static Dataset<Row> popularityBins(StageContext ctx, Dataset<Row> pins, LocalDate day) {
        int window = ctx.config().trainingData().featureWindowDays();
        Dataset<Row> examples = ctx.tables()
                .readDays(
                        TrainingDataSchemas.TRAINING_EXAMPLES_TABLE,
                        day.minusDays(window).toString(),
                        day.minusDays(1).toString());
        return PopularityPrior.bins(pins, examples, day, window);
    }

    /** Key to embedding, keyed by the entity's key column as it is (a String example id, a long pin id). */
    private static Map<Object, float[]> collect(Dataset<Row> embedded) {
        Map<Object, float[]> out = new HashMap<>();
        for (Row r :
                embedded.select(col(embedded.columns()[0]), col("embedding")).collectAsList()) {
            List<Float> e = r.getList(1);
            float[] v = new float[e.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = e.get(i);
            }
            out.put(r.get(0), v);
        }
        return out;
    }

    /**
     * The held-out rows whose positive is in the catalog, their weights (training's task weighting) and histories;
     * with the catalog's popularity bins when {@code pinBins} has them (empty: no popularity prior).
     */
    static ReengagementCalibration.Problem problem(
            List<Row> rows,
            Map<Object, float[]> userEmbedding,
            Map<Object, float[]> pinEmbedding,
            ReengagementConfig re,
            ModelConfig model,
            float temperature,
            float[] learned,
            Map<Object, Integer> pinBins) {
        int dim = model.embeddingDim();
        Map<Object, Integer> index = new HashMap<>();
        float[] pins = new float[pinEmbedding.size() * dim];
        int bins = pinBins.isEmpty() ? 0 : PopularityPrior.BINS;
        int[] catalogBins = new int[bins == 0 ? 0 : pinEmbedding.size()];
        for (Map.Entry<Object, float[]> e : pinEmbedding.entrySet()) {
            System.arraycopy(e.getValue(), 0, pins, index.size() * dim, dim);
            if (bins > 0) {
                catalogBins[index.size()] = pinBins.getOrDefault(e.getKey(), 0);
            }
            index.put(e.getKey(), index.size());
        }
        int sequences = re.sequences().size();
        double[] taskMass = new double[2];
        List<Row> kept = new ArrayList<>();
        for (Row r : rows) {
            if (index.containsKey(r.get(1)) && userEmbedding.containsKey(r.get(0))) {
                kept.add(r);
                taskMass[isConversion(r) ? 0 : 1] += r.getFloat(3);
            }
        }
        int dropped = rows.size() - kept.size();
        if (dropped > 0) {
            LOG.info(
                    "re-engagement calibration: {} of {} held-out positives are on pins outside the catalog and are left out",
                    dropped,
                    rows.size());
        }
        int n = kept.size();
        float[] users = new float[n * dim];
        float[] weights = new float[n];
        int[] positives = new int[n];
        int[][] historyPins = new int[n][];
        int[][] historySlots = new int[n][];
        for (int i = 0; i < n; i++) {
            Row r = kept.get(i);
            System.arraycopy(userEmbedding.get(r.get(0)), 0, users, i * dim, dim);
            boolean conversion = isConversion(r);
            double taskWeight = conversion
                    ? model.heads().conversionWeight()
                    : model.heads().engagementWeight();
            weights[i] = (float) (taskWeight * r.getFloat(3) / Math.max(taskMass[conversion ? 0 : 1], 1e-12));
            positives[i] = index.get(r.get(1));
            Map<Integer, int[]> slots = new LinkedHashMap<>();
            for (int q = 0; q < sequences; q++) {
                List<Object> seq = r.isNullAt(4 + q) ? List.of() : r.getList(4 + q);
                for (int pos = seq.size() - 1; pos >= 0; pos--) {
                    Integer pin = seq.get(pos) == null ? null : index.get(seq.get(pos));
                    if (pin != null) {
                        slots.computeIfAbsent(pin, k -> new int[sequences])[q] = ReengagementConfig.bucketOf(pos);
                    }
                }
            }
            historyPins[i] = slots.keySet().stream().mapToInt(Integer::intValue).toArray();
            historySlots[i] = new int[historyPins[i].length * sequences];
            int h = 0;
            for (int[] perSequence : slots.values()) {
                System.arraycopy(perSequence, 0, historySlots[i], h++ * sequences, sequences);
            }
        }
        return new ReengagementCalibration.Problem(
                temperature,
                dim,
                users,
                weights,
                pins,
                positives,
                historyPins,
                historySlots,
                sequences,
                ReengagementConfig.SLOTS,
                learned,
                catalogBins,
                bins);
    }

    private static boolean isConversion(Row r) {
        return Task.fromName(r.getString(2)) == Task.CONVERSION;
    }
}
