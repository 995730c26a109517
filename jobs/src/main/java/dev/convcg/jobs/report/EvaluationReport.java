package dev.convcg.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convcg.core.eval.EvaluationSettings.DataWindow;
import dev.convcg.core.eval.RecallMetrics;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

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
 */
public record EvaluationReport(
        LocalDate runDate,
        String modelVersion,
        DataWindow window,
        long catalogPins,
        List<Integer> headlineKs,
        List<ModelResult> models,
        List<AblationRow> ablation,
        Optional<JsonNode> dataQuality) {

    public EvaluationReport {
        headlineKs = List.copyOf(headlineKs);
        models = List.copyOf(models);
        ablation = List.copyOf(ablation);
    }

    /** One model's figures; {@code model} is a metrics.json model name ("two_tower", "popularity", ...). */
    public record ModelResult(String model, RecallMetrics.Result result) {}

    /** One line of the ablation table: a variant's metric as mean ± standard deviation over {@code seeds} runs. */
    public record AblationRow(String variant, String metric, double mean, double std, int seeds) {}
}
