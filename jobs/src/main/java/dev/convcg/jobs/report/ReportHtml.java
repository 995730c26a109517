package dev.convcg.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.convcg.core.eval.OfflineEvaluation;
import dev.convcg.core.eval.RecallMetrics;
import dev.convcg.core.eval.RecallMetrics.Metric;
import dev.convcg.core.eval.RecallMetrics.Recall;
import dev.convcg.core.sim.OnlineReplay;
import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Renders {@code report.html}: one self-contained page (inline CSS, charts as inline base64 PNG, no external
 * reference) with the run metadata, the headline table (recall with intervals, lifts with paired intervals), recall
 * tables at the headline Ks, recall@K curves per task and surface, the
 * coverage of query embeddings, on simulated data the online A/B, and, when given, the ablation table and the training data's quality summary.
 */
public final class ReportHtml {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final List<String> SURFACES =
            List.of(RecallMetrics.ALL_SURFACES, "home_feed", "related_pins", "search");
    private static final List<String> TASKS = List.of("conversion", "engagement");

    private ReportHtml() {}

    public static String render(EvaluationReport r) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>convcg evaluation ")
                .append(r.runDate())
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1700px}"
                        + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                        + "th{background:#f3f3f3}td.l,th.l{text-align:left}img{margin:4px}</style></head><body>\n");
        h.append("<h1>Offline evaluation, run ")
                .append(r.runDate())
                .append("</h1>\n<p>Model version <b>")
                .append(esc(r.modelVersion()))
                .append("</b>; trained on ")
                .append(r.window().trainFrom())
                .append(" .. ")
                .append(r.window().trainTo())
                .append(", evaluated on ")
                .append(r.window().evalFrom())
                .append(" .. ")
                .append(r.window().evalTo())
                .append("; catalog ")
                .append(r.catalogPins())
                .append(" pins (a random model scores K / ")
                .append(r.catalogPins())
                .append(").</p>\n");

        headline(h, r);
        r.onlineAb().ifPresent(ab -> onlineAb(h, ab));
        h.append(
                "<h2>Recall at the headline cut-offs</h2>\n<p>Event hit rate: share of held-out events whose pin is in "
                        + "the top K of the event's (user, surface). User recall: per user, share of their distinct positives in "
                        + "the top K, averaged over users.</p>\n");
        for (String task : TASKS) {
            h.append("<h3>").append(task).append("</h3>\n<table><tr><th class=l>surface</th><th class=l>model</th>");
            for (int k : r.headlineKs()) {
                h.append("<th>hit rate@").append(k).append("</th>");
            }
            for (int k : r.headlineKs()) {
                h.append("<th>user recall@").append(k).append("</th>");
            }
            h.append("<th>users</th><th>events</th></tr>\n");
            for (String surface : SURFACES) {
                for (EvaluationReport.ModelResult m : r.models()) {
                    List<Recall> rows = m.result().recalls().stream()
                            .filter(x -> x.task().equals(task)
                                    && x.surface().equals(surface)
                                    && Metric.HELD_OUT.contains(x.metric()))
                            .toList();
                    if (rows.isEmpty()) {
                        continue;
                    }
                    h.append("<tr><td class=l>")
                            .append(surface)
                            .append("</td><td class=l>")
                            .append(esc(m.model()))
                            .append("</td>");
                    for (Metric metric : Metric.HELD_OUT) {
                        for (int k : r.headlineKs()) {
                            h.append("<td>")
                                    .append(rows.stream()
                                            .filter(x -> x.k() == k && x.metric() == metric)
                                            .findFirst()
                                            .map(x -> fmt(x.recall())
                                                    + m.result()
                                                            .interval(task, surface, k, metric)
                                                            .map(i -> "<br><small>" + fmt(i.low()) + "&ndash;"
                                                                    + fmt(i.high()) + "</small>")
                                                            .orElse(""))
                                            .orElse(""))
                                    .append("</td>");
                        }
                    }
                    h.append("<td>")
                            .append(rows.get(0).users())
                            .append("</td><td>")
                            .append(rows.get(0).events())
                            .append("</td></tr>\n");
                }
            }
            h.append("</table>\n");
        }

        h.append("<h2>Recall@K curves</h2>\n");
        for (Metric metric : Metric.values()) {
            for (String task : TASKS) {
                for (String surface :
                        metric == Metric.EVENT_HIT_RATE ? SURFACES : List.of(RecallMetrics.ALL_SURFACES)) {
                    XYChart chart = curve(r, task, surface, metric);
                    if (chart != null) {
                        h.append("<img alt=\"")
                                .append(metric.label())
                                .append(' ')
                                .append(task)
                                .append(' ')
                                .append(surface)
                                .append("\" src=\"data:image/png;base64,")
                                .append(png(chart))
                                .append("\">\n");
                    }
                }
            }
        }

        h.append("<h2>Coverage of query embeddings</h2>\n<p>Held-out events of users without a query embedding count "
                + "as misses.</p>\n<table><tr><th class=l>model</th><th class=l>task</th><th class=l>surface</th>"
                + "<th>users</th><th>without query</th><th>events</th><th>without query</th></tr>\n");
        for (EvaluationReport.ModelResult m : r.models()) {
            for (RecallMetrics.Coverage c : m.result().coverage()) {
                h.append("<tr><td class=l>")
                        .append(esc(m.model()))
                        .append("</td><td class=l>")
                        .append(c.task())
                        .append("</td><td class=l>")
                        .append(c.surface())
                        .append("</td><td>")
                        .append(c.users())
                        .append("</td><td>")
                        .append(c.usersWithoutQuery())
                        .append("</td><td>")
                        .append(c.events())
                        .append("</td><td>")
                        .append(c.eventsWithoutQuery())
                        .append("</td></tr>\n");
            }
        }
        h.append("</table>\n");

        if (!r.ablation().isEmpty()) {
            h.append("<h2>Ablation</h2>\n<table><tr><th class=l>variant</th><th class=l>metric</th>"
                    + "<th>mean &plusmn; std</th><th>seeds</th></tr>\n");
            for (EvaluationReport.AblationRow a : r.ablation()) {
                h.append("<tr><td class=l>")
                        .append(esc(a.variant()))
                        .append("</td><td class=l>")
                        .append(esc(a.metric()))
                        .append("</td><td>")
                        .append(fmt(a.mean()))
                        .append(" &plusmn; ")
                        .append(fmt(a.std()))
                        .append("</td><td>")
                        .append(a.seeds())
                        .append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        r.dataQuality().ifPresent(q -> {
            h.append("<h2>Training data quality</h2>\n<table><tr><th class=l>item</th><th class=l>value</th></tr>\n");
            List<String[]> rows = new ArrayList<>();
            flatten("", q, rows);
            for (String[] row : rows) {
                h.append("<tr><td class=l>")
                        .append(esc(row[0]))
                        .append("</td><td class=l>")
                        .append(esc(row[1]))
                        .append("</td></tr>\n");
            }
            h.append("</table>\n");
        });
        return h.append("</body></html>\n").toString();
    }

    /**
     * The table a reader looks at first, one per task: each model's event hit rate over all surfaces at the headline
     * cut-offs with its interval, its lift over engagement_only, and the lift over it of two_tower (and of its blend
     * with the history source, when evaluated), each with its paired interval. A lift whose interval excludes 0 is bold.
     */
    private static void headline(StringBuilder h, EvaluationReport r) {
        List<EvaluationReport.Comparison> comparisons = r.comparisons();
        boolean intervals =
                r.models().stream().anyMatch(m -> !m.result().replicates().isEmpty());
        h.append("<h2>Headline: held-out recall with 95% intervals</h2>\n<p>Event hit rate over all surfaces. ")
                .append(
                        intervals
                                ? "Intervals: percentile bootstrap over the evaluated users; a lift's interval is "
                                        + "paired (both models on the same resampled users). Bold: the interval excludes 0. "
                                        + "Exposure-free recall (simulated data only): the share of each user's top K pins by true "
                                        + "conversion propensity that the model's top K holds, whatever the serving policy showed."
                                : "No intervals: evaluate.intervals.replicates = 0.")
                .append("</p>\n");
        for (String task : TASKS) {
            boolean any = r.models().stream()
                    .anyMatch(m ->
                            m.result().recalls().stream().anyMatch(x -> x.task().equals(task)));
            if (!any) {
                continue;
            }
            h.append("<h3>").append(task).append("</h3>\n<table><tr><th class=l>model</th>");
            for (int k : r.headlineKs()) {
                h.append("<th>recall@").append(k).append("</th>");
            }
            List<String> references = comparisons.stream()
                    .map(EvaluationReport.Comparison::reference)
                    .distinct()
                    .toList();
            boolean overClicks = references.contains(OfflineEvaluation.ENGAGEMENT_ONLY);
            List<String> served = EvaluationReport.SERVED.stream()
                    .filter(name -> comparisons.stream()
                            .anyMatch(c ->
                                    c.model().equals(name) && !c.reference().equals(OfflineEvaluation.ENGAGEMENT_ONLY)))
                    .toList();
            for (int k : r.headlineKs()) {
                if (overClicks) {
                    h.append("<th>lift over engagement_only @").append(k).append("</th>");
                }
            }
            for (String name : served) {
                for (int k : r.headlineKs()) {
                    h.append("<th>")
                            .append(esc(name))
                            .append("'s lift over it @")
                            .append(k)
                            .append("</th>");
                }
            }
            boolean exposureFree = r.models().stream()
                    .anyMatch(m -> m.result().recalls().stream()
                            .anyMatch(x -> x.task().equals(task) && x.metric() == Metric.TRUE_PROPENSITY_RECALL));
            for (int k : r.headlineKs()) {
                if (exposureFree) {
                    h.append("<th>exposure-free recall@").append(k).append("</th>");
                }
            }
            boolean online = task.equals("conversion") && r.onlineAb().isPresent();
            if (online) {
                h.append("<th>online A/B: conversions per 1,000 impressions</th>");
                if (r.onlineAb().get().reference() != null) {
                    h.append("<th>its lift over ")
                            .append(esc(r.onlineAb().get().reference()))
                            .append("</th>");
                }
            }
            h.append("</tr>\n");
            for (EvaluationReport.ModelResult m : r.models()) {
                h.append("<tr><td class=l>").append(esc(m.model())).append("</td>");
                for (int k : r.headlineKs()) {
                    h.append("<td>")
                            .append(fmt(m.result()
                                    .get(task, RecallMetrics.ALL_SURFACES, k, Metric.EVENT_HIT_RATE)
                                    .recall()))
                            .append(m.result()
                                    .interval(task, RecallMetrics.ALL_SURFACES, k, Metric.EVENT_HIT_RATE)
                                    .map(i -> " <small>[" + fmt(i.low()) + ", " + fmt(i.high()) + "]</small>")
                                    .orElse(""))
                            .append("</td>");
                }
                for (int k : r.headlineKs()) {
                    if (overClicks) {
                        h.append(liftCell(comparisons, m.model(), OfflineEvaluation.ENGAGEMENT_ONLY, task, k));
                    }
                }
                for (String name : served) {
                    for (int k : r.headlineKs()) {
                        h.append(liftCell(comparisons, name, m.model(), task, k));
                    }
                }
                for (int k : r.headlineKs()) {
                    if (exposureFree) {
                        h.append("<td>")
                                .append(m.result().recalls().stream()
                                        .filter(x -> x.task().equals(task)
                                                && x.k() == k
                                                && x.metric() == Metric.TRUE_PROPENSITY_RECALL)
                                        .findFirst()
                                        .map(x -> fmt(x.recall()))
                                        .orElse(""))
                                .append("</td>");
                    }
                }
                if (online) {
                    OnlineReplay.Figure f = r.onlineAb().get().arms().stream()
                            .filter(a -> a.arm().equals(m.model()))
                            .findFirst()
                            .map(a -> a.rates().get("conversions_per_1000"))
                            .orElse(null);
                    h.append("<td>").append(f == null ? "" : rate(f)).append("</td>");
                    if (r.onlineAb().get().reference() != null) {
                        h.append(f == null ? "<td></td>" : liftCell(f));
                    }
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n");
        }
    }

    private static String rate(OnlineReplay.Figure f) {
        return String.format(Locale.ROOT, "%.3f", f.value())
                + (f.interval() == null
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                " <small>[%.3f, %.3f]</small>",
                                f.interval().low(),
                                f.interval().high()));
    }

    private static String liftCell(OnlineReplay.Figure f) {
        if (Double.isNaN(f.lift())) {
            return "<td></td>";
        }
        if (f.liftInterval() == null) {
            return "<td>" + pct(f.lift()) + "</td>";
        }
        boolean sure = f.liftInterval().low() > 0 || f.liftInterval().high() < 0;
        String text = pct(f.lift()) + " <small>[" + pct(f.liftInterval().low()) + ", "
                + pct(f.liftInterval().high()) + "]</small>";
        return "<td>" + (sure ? "<b>" + text + "</b>" : text) + "</td>";
    }

    /** The simulated online A/B: every arm's totals, then each rate with its interval and lift. */
    private static void onlineAb(StringBuilder h, EvaluationReport.OnlineAb ab) {
        h.append("<h2>Simulated online A/B</h2>\n<p>The evaluation days' logged requests of ")
                .append(ab.users())
                .append(" users served again once per arm, each from its model's top ")
                .append(ab.k())
                .append(" candidates per (user, surface); the simulator's policy fills the slots and the users answer "
                        + "through the world's click, dwell and conversion model, with common random numbers across arms. "
                        + "Conversions: add-to-carts and checkouts when they happen; value: checkout value (RoAS proxy). "
                        + "Long click: dwell over 30 s.")
                .append(
                        ab.reference() == null
                                ? ""
                                : " Lifts are over " + esc(ab.reference())
                                        + " with paired bootstrap intervals over users; bold: the interval excludes 0.")
                .append("</p>\n<table><tr><th class=l>arm</th><th>requests</th><th>impressions</th><th>clicks</th>"
                        + "<th>long clicks</th><th>add-to-carts</th><th>checkouts</th><th>conversion value</th>"
                        + "<th>advertisers converting</th></tr>\n");
        for (OnlineReplay.ArmResult a : ab.arms()) {
            h.append("<tr><td class=l>")
                    .append(esc(a.arm()))
                    .append("</td><td>")
                    .append(a.requests())
                    .append("</td><td>")
                    .append(a.impressions())
                    .append("</td><td>")
                    .append(a.clicks())
                    .append("</td><td>")
                    .append(a.longClicks())
                    .append("</td><td>")
                    .append(a.addToCarts())
                    .append("</td><td>")
                    .append(a.checkouts())
                    .append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.0f", a.conversionValue()))
                    .append("</td><td>")
                    .append(a.advertisersConverted())
                    .append("</td></tr>\n");
        }
        h.append("</table>\n<table><tr><th class=l>arm</th>");
        for (String rate : OnlineReplay.RATES) {
            h.append("<th>").append(rate.replace('_', ' ')).append("</th>");
            if (ab.reference() != null) {
                h.append("<th>lift</th>");
            }
        }
        h.append("</tr>\n");
        for (OnlineReplay.ArmResult a : ab.arms()) {
            h.append("<tr><td class=l>").append(esc(a.arm())).append("</td>");
            for (String rate : OnlineReplay.RATES) {
                OnlineReplay.Figure f = a.rates().get(rate);
                h.append("<td>").append(rate(f)).append("</td>");
                if (ab.reference() != null) {
                    h.append(liftCell(f));
                }
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static String liftCell(
            List<EvaluationReport.Comparison> comparisons, String model, String reference, String task, int k) {
        return comparisons.stream()
                .filter(c -> c.model().equals(model)
                        && c.reference().equals(reference)
                        && c.task().equals(task)
                        && c.k() == k
                        && c.metric() == Metric.EVENT_HIT_RATE)
                .findFirst()
                .map(c -> {
                    RecallMetrics.Lift l = c.lift();
                    boolean sure = l.interval().low() > 0 || l.interval().high() < 0;
                    String text = pct(l.lift()) + " <small>[" + pct(l.interval().low()) + ", "
                            + pct(l.interval().high()) + "]</small>";
                    return "<td>" + (sure ? "<b>" + text + "</b>" : text) + "</td>";
                })
                .orElse("<td></td>");
    }

    private static String pct(double x) {
        return Double.isFinite(x) ? String.format(Locale.ROOT, "%+.1f%%", 100 * x) : "n/a";
    }

    /** One chart: recall against K (log scale), one line per model; null when no model has figures there. */
    static XYChart curve(EvaluationReport r, String task, String surface, Metric metric) {
        XYChart chart = new XYChartBuilder()
                .width(560)
                .height(360)
                .title(task + " / " + surface + ": " + metric.label().replace('_', ' ') + "@K")
                .xAxisTitle("K")
                .yAxisTitle(metric.label().replace('_', ' '))
                .build();
        chart.getStyler()
                .setXAxisLogarithmic(true)
                .setYAxisMin(0.0)
                .setYAxisMax(1.0)
                .setChartBackgroundColor(Color.WHITE);
        boolean any = false;
        for (EvaluationReport.ModelResult m : r.models()) {
            List<Recall> points = m.result().recalls().stream()
                    .filter(x -> x.task().equals(task) && x.surface().equals(surface) && x.metric() == metric)
                    .toList();
            if (!points.isEmpty()) {
                chart.addSeries(
                                m.model(),
                                points.stream().mapToDouble(Recall::k).toArray(),
                                points.stream().mapToDouble(Recall::recall).toArray())
                        .setMarker(SeriesMarkers.CIRCLE);
                any = true;
            }
        }
        return any ? chart : null;
    }

    private static String png(XYChart chart) {
        try {
            return Base64.getEncoder()
                    .encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new IllegalStateException("cannot draw chart " + chart.getTitle(), e);
        }
    }

    private static void flatten(String prefix, JsonNode node, List<String[]> out) {
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                flatten(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue(), out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                flatten(prefix + "[" + i + "]", node.get(i), out);
            }
        } else {
            out.add(new String[] {prefix, node.isTextual() ? node.asText() : node.toString()});
        }
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.4f", x);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
