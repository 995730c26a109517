package dev.convcg.modelspark.train;

import com.google.gson.Gson;
import dev.convcg.model.artifact.TwoTowerEncoder;
import dev.convcg.model.config.TrainerConfig;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.train.EarlyStopping;
import dev.convcg.model.train.EpochMetrics;
import dev.convcg.model.train.TwoTowerTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.io.FileUtils;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body of the one Spark task that trains: builds the trainer on the devices Spark gave the task (its GPUs, or
 * the CPU with the task's cores), resumes from the run's checkpoint or warm-starts from the previous artifact, trains
 * on the streamed epochs, logs validation loss per task and sampled recall per epoch, stops early when validation
 * loss stops improving, and writes the artifact to the staging directory: each epoch that improves the validation
 * loss overwrites it ({@code restore-best}), so the published model is the best epoch, not the last one (on the
 * Tmall log the validation loss is lowest after the first epoch and the model overfits after it). Returns one JSON
 * line of metrics.
 */
public final class TrainTask {
    private static final Logger LOG = LoggerFactory.getLogger(TrainTask.class);

    private TrainTask() {}

    public static Iterator<String> run(TrainSpec spec, Iterator<Row> rows) {
        FeatureSchema schema = spec.schema();
        TrainerConfig config = withTaskDevices(spec.trainer());
        ValidationSample sample = new ValidationSample(schema, spec.sampledConversions(), spec.sampledCandidates());
        EpochStream stream = new EpochStream(
                rows,
                schema,
                config.batchSize(),
                spec.model().hardNegatives().enabled()
                        ? spec.model().hardNegatives().maxCount()
                        : 0,
                sample,
                spec.trainPositivesPerEpoch());
        List<Map<String, Object>> epochs = new ArrayList<>();
        Map<String, Object> result = new LinkedHashMap<>();
        Map<String, Double> stepPhaseMs = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        EarlyStopping stopping = new EarlyStopping(spec.earlyStoppingPatience(), spec.earlyStoppingMinDelta());
        try (TwoTowerTrainer trainer = new TwoTowerTrainer(spec.model(), schema, config, List.of(stopping))) {
            boolean hasCheckpoint = hasCheckpoint(config);
            if (spec.warmStartDir() != null && !hasCheckpoint) {
                trainer.warmStartFrom(Path.of(spec.warmStartDir()));
            }
            LOG.info(
                    "training {} ({} parameters) on {}{}",
                    spec.versionId(),
                    trainer.parameterCount(),
                    List.of(trainer.devices()),
                    hasCheckpoint ? ", resuming from " + config.checkpointDir() : "");
            Path probe = Path.of(spec.stagingDir())
                    .resolveSibling(Path.of(spec.stagingDir()).getFileName() + "-epoch");
            double[] best = {Double.POSITIVE_INFINITY, -1, -1};
            trainer.fit(stream.train(), stream.validation(), m -> {
                double recall = sampledRecall(trainer, probe, sample, spec.sampledRecallK());
                Map<String, Object> e = epochRecord(m, recall, spec.sampledRecallK());
                epochs.add(e);
                LOG.info(
                        "epoch {} done: {} steps, {} examples, {} s, train loss {}, validation loss {} "
                                + "(conversion {}, engagement {}), sampled recall@{} on {} validation conversions over {} pins: {}",
                        m.epoch(),
                        m.steps(),
                        m.examples(),
                        String.format("%.1f", m.seconds()),
                        fmt(m.train().total()),
                        m.validation() == null ? "n/a" : fmt(m.validation().total()),
                        m.validation() == null ? "n/a" : fmt(m.validation().conversion()),
                        m.validation() == null ? "n/a" : fmt(m.validation().engagement()),
                        spec.sampledRecallK(),
                        sample.conversions(),
                        sample.candidates(),
                        fmt(recall));
                double monitored = m.validation() == null
                        ? m.train().total()
                        : m.validation().total();
                best[2] = m.epoch();
                if (!spec.restoreBest() || monitored < best[0]) {
                    best[0] = monitored;
                    best[1] = m.epoch();
                    trainer.saveArtifact(Path.of(spec.stagingDir()), spec.versionId());
                }
            });
            trainer.phaseSeconds().forEach((phase, sec) -> stepPhaseMs.put(phase, 1000 * sec));
            LOG.info(
                    "training step, ms by phase: {}",
                    stepPhaseMs.entrySet().stream()
                            .map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%.1f", e.getValue()))
                            .toList());
            if (best[1] >= 0 && best[1] < best[2]) {
                LOG.info(
                        "publishing epoch {} (best validation loss {}), not the last epoch {}",
                        (int) best[1],
                        fmt(best[0]),
                        (int) best[2]);
            }
            if (best[1] < 0) {
                trainer.saveArtifact(Path.of(spec.stagingDir()), spec.versionId());
            }
            result.put("published_epoch", (int) best[1]);
            deleteProbe(probe);
        }
        result.put("version_id", spec.versionId());
        result.put("epochs", epochs);
        result.put("positives_streamed", stream.positives());
        result.put("hard_negatives_streamed", stream.hardNegatives());
        result.put("hard_negatives_over_cap", stream.droppedHardNegatives());
        result.put("early_stopped", epochs.size() < spec.trainer().epochs());
        double seconds = (System.nanoTime() - t0) / 1e9;
        result.put("train_seconds", seconds);
        result.put("step_phase_ms", stepPhaseMs);
        result.put("input_wait_seconds", stream.inputSeconds());
        result.put("input_wait_share", stream.inputSeconds() / seconds);
        result.put(
                "examples_per_second",
                epochs.stream()
                                .mapToLong(e -> ((Number) e.get("examples")).longValue())
                                .sum()
                        / seconds);
        LOG.info(
                "trained in {} s; the trainer waited on input {} s ({}% of the time)",
                String.format("%.1f", seconds),
                String.format("%.1f", stream.inputSeconds()),
                String.format("%.1f", 100 * stream.inputSeconds() / seconds));
        return List.of(new Gson().toJson(result)).iterator();
    }

    /** Uses the GPUs Spark assigned to this task when the config asks for "gpu", else the config's devices. */
    static TrainerConfig withTaskDevices(TrainerConfig config) {
        TaskContext task = TaskContext.get();
        if (!"gpu".equals(config.devices())) {
            return config;
        }
        ResourceInformation gpus =
                task == null ? null : task.resources().get("gpu").getOrElse(() -> null);
        if (gpus == null || gpus.addresses().length == 0) {
            if (config.fallbackToCpu()) {
                LOG.warn("train.devices = gpu but Spark assigned this task no GPU; falling back to the CPU");
                return config.withDevices("cpu", true);
            }
            throw new IllegalStateException("train.devices = gpu but Spark assigned this task no GPU: set "
                    + "spark.executor.resource.gpu.amount, spark.task.resource.gpu.amount and a discovery script "
                    + "(scripts/gpu-discovery.sh), or set train.fallback-to-cpu = true");
        }
        StringBuilder devices = new StringBuilder();
        for (String a : gpus.addresses()) {
            devices.append(devices.isEmpty() ? "" : ",").append("gpu:").append(a.trim());
        }
        return config.withDevices(devices.toString(), config.fallbackToCpu());
    }

    private static double sampledRecall(TwoTowerTrainer trainer, Path probe, ValidationSample sample, int k) {
        if (sample.conversions() == 0) {
            return Double.NaN;
        }
        trainer.saveArtifact(probe, "epoch-probe");
        try (TwoTowerEncoder encoder = TwoTowerEncoder.load(probe)) {
            return sample.recallAt(encoder, k);
        }
    }

    private static Map<String, Object> epochRecord(EpochMetrics m, double recall, int k) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("epoch", m.epoch());
        e.put("steps", m.steps());
        e.put("examples", m.examples());
        e.put("seconds", m.seconds());
        e.put("train_loss", m.train().total());
        e.put("train_loss_conversion", m.train().conversion());
        e.put("train_loss_engagement", m.train().engagement());
        e.put("train_loss_advertiser", m.train().advertiser());
        if (m.validation() != null) {
            e.put("validation_loss", m.validation().total());
            e.put("validation_loss_conversion", m.validation().conversion());
            e.put("validation_loss_engagement", m.validation().engagement());
            e.put("validation_loss_advertiser", m.validation().advertiser());
        }
        e.put("sampled_recall_at_" + k, Double.isNaN(recall) ? null : recall);
        return e;
    }

    private static boolean hasCheckpoint(TrainerConfig config) {
        Path dir = Path.of(config.checkpointDir());
        try (var s = Files.exists(dir) ? Files.list(dir) : Stream.<Path>empty()) {
            return s.findAny().isPresent();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.4f", v);
    }

    private static void deleteProbe(Path probe) {
        try {
            FileUtils.deleteDirectory(probe.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
