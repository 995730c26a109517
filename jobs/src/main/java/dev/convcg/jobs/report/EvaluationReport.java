package dev.convcg.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convcg.core.eval.EvaluationSettings.DataWindow;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.sim.OnlineReplay;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything one evaluation run reports, rendered by {@link MetricsJson} and {@link ReportHtml}.
 *
 * @param runDate      the run's date (the training end day T)
 * @param modelVersion version of the evaluated two-tower model, or "none" when only baselines ran
 * @param window       training and evaluation days
 * @param catalogPins  pins in the active catalog retrieval ranked (a random model scores K / catalogPins)
 * @param headlineKs   cut-offs of the report's tables
 * @param models       each model's figures, in the order they are shown
 * @param ablation     rows of the ablation table; empty when no ablation ran
 * @param dataQuality  data-quality summary of the training data, as given by the stage that built it
 * @param onlineAb     the simulated online A/B (simulated data only)
 */
public record EvaluationReport(
        LocalDate runDate,
        String modelVersion,
        DataWindow window,
        long catalogPins,
        List<Integer> headlineKs,
        List<ModelResult> models,
        List<AblationRow> ablation,
        Optional<JsonNode> dataQuality,
        Optional<OnlineAb> onlineAb) {

    /** A report without an online A/B (real logs). */
    public EvaluationReport(
            LocalDate runDate,
            String modelVersion,
            DataWindow window,
            long catalogPins,
            List<Integer> headlineKs,
            List<ModelResult> models,
            List<AblationRow> ablation,
            Optional<JsonNode> dataQuality) {
        this(runDate, modelVersion, window, catalogPins, headlineKs, models, ablation, dataQuality, Optional.empty());
    }

    public EvaluationReport {
        headlineKs = List.copyOf(headlineKs);
        models = List.copyOf(models);
        ablation = List.copyOf(ablation);
    }

    /** One model's figures; {@code model} is a metrics.json model name ("two_tower", "popularity", ...). */
    public record ModelResult(String model, RecallMetrics.Result result) {}

    /** {@code model}'s figure relative to {@code reference}'s ({@code model / reference - 1}), with a paired interval. */
    public record Comparison(
            String model,
            String reference,
            String task,
            String surface,
            int k,
            RecallMetrics.Metric metric,
            RecallMetrics.Lift lift) {}

    /**
     * The comparisons the report and metrics.json show, over all surfaces at the headline cut-offs, where intervals
     * were computed: every model over {@code engagement_only} (the click-trained retriever the project replaces), and
     * each {@link #SERVED} model over every model that is not served.
     */
    public List<Comparison> comparisons() {
        List<Comparison> out = new ArrayList<>();
        Optional<ModelResult> clicks = model(OfflineEvaluation.ENGAGEMENT_ONLY);
        for (ModelResult m : models) {
            clicks.filter(c -> c != m).ifPresent(c -> add(out, m, c));
        }
        for (String name : SERVED) {
            model(name)
                    .ifPresent(t -> models.stream()
                            .filter(m -> m != t
                                    && !SERVED.contains(m.model())
                                    && !m.model().equals(OfflineEvaluation.ENGAGEMENT_ONLY))
                            .forEach(m -> add(out, t, m)));
        }
        model(OfflineEvaluation.TWO_TOWER)
                .ifPresent(t -> model(OfflineEvaluation.HISTORY_TWO_TOWER).ifPresent(b -> add(out, t, b)));
        return out;
    }

    /** The models built from the conversion retriever: the two-tower, and its blend with the history source. */
    public static final List<String> SERVED = List.of(OfflineEvaluation.TWO_TOWER, OfflineEvaluation.HISTORY_TWO_TOWER);

    /** The named model's figures, if it was evaluated. */
    public Optional<ModelResult> model(String name) {
        return models.stream().filter(m -> m.model().equals(name)).findFirst();
    }

    private void add(List<Comparison> out, ModelResult model, ModelResult reference) {
        Set<String> tasks = new LinkedHashSet<>();
        model.result().recalls().forEach(r -> tasks.add(r.task()));
        for (String task : tasks) {
            for (int k : headlineKs) {
                for (RecallMetrics.Metric metric : RecallMetrics.Metric.values()) {
                    model.result()
                            .liftOver(reference.result(), task, RecallMetrics.ALL_SURFACES, k, metric)
                            .ifPresent(l -> out.add(new Comparison(
                                    model.model(), reference.model(), task, RecallMetrics.ALL_SURFACES, k, metric, l)));
                }
            }
        }
    }

    /**
     * The simulated online A/B ({@link OnlineReplay}): each arm served from its model's top {@code k} candidates to
     * the same {@code users}' logged requests; lifts are over {@code reference} (null: none).
     */
    public record OnlineAb(int k, long users, String reference, List<OnlineReplay.ArmResult> arms) {}

    /** One line of the ablation table: a variant's metric as mean ± standard deviation over {@code seeds} runs. */
    public record AblationRow(String variant, String metric, double mean, double std, int seeds) {}
}
