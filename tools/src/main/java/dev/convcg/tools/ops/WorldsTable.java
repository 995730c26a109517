package dev.convcg.tools.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.convcg.jobs.io.StorageLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * The table of {@code scripts/worlds.sh}: reads each world's {@code ablation.json} and {@code metrics.json} under
 * {@code OUT/world-SEED/reports/D/} and prints Markdown: per variant and headline metric, the value in each world
 * (mean over model seeds), the mean ± sd across worlds and the relative effect against {@code default} with a 95%
 * t interval across worlds (worlds are the independent unit: model seeds of one world share its data); then per world
 * the model's paired lifts over engagement_only (recall, online A/B) as {@code evaluate} measured them.
 *
 * <pre>WorldsTable OUT D SEED [SEED ...]</pre>
 */
public final class WorldsTable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private WorldsTable() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: WorldsTable OUT_DIR RUN_DATE WORLD_SEED [WORLD_SEED ...]");
            System.exit(2);
        }
        List<String> worlds = List.of(args).subList(2, args.length);
        System.out.print(render(Path.of(args[0]), args[1], worlds));
    }

    /** The Markdown table of the worlds' reports. */
    static String render(Path out, String runDate, List<String> worlds) throws IOException {
        Map<String, Map<String, double[]>> byVariant = new LinkedHashMap<>();
        List<JsonNode> metrics = new ArrayList<>();
        int seeds = 0;
        for (int w = 0; w < worlds.size(); w++) {
            Path reports = out.resolve("world-" + worlds.get(w))
                    .resolve(StorageLayout.REPORTS)
                    .resolve(runDate);
            for (JsonNode row : JSON.readTree(reports.resolve("ablation.json").toFile())) {
                byVariant.computeIfAbsent(row.get("variant").asText(), v -> new LinkedHashMap<>())
                                .computeIfAbsent(row.get("metric").asText(), m -> nan(worlds.size()))[w] =
                        row.get("mean").asDouble();
                seeds = Math.max(seeds, row.get("seeds").asInt());
            }
            Path m = reports.resolve("metrics.json");
            metrics.add(Files.exists(m) ? JSON.readTree(m.toFile()) : null);
        }
        StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT,
                "## Ablation over %d worlds × %d model seeds (run date %s)%n%n",
                worlds.size(),
                seeds,
                runDate));
        b.append(
                "Each world's figure is the mean over its model seeds; the effect is `variant / default - 1` per world, "
                        + "its interval a 95% t interval across worlds.\n\n| variant | metric |");
        worlds.forEach(w -> b.append(" world ").append(w).append(" |"));
        b.append(" mean ± sd | effect vs default [95% interval] |\n|---|---|");
        worlds.forEach(w -> b.append("---|"));
        b.append("---|---|\n");
        Map<String, double[]> reference = byVariant.get("default");
        byVariant.forEach((variant, byMetric) -> byMetric.forEach((metric, xs) -> {
            b.append("| ").append(variant).append(" | ").append(metric).append(" |");
            for (double x : xs) {
                b.append(String.format(Locale.ROOT, " %.4f |", x));
            }
            b.append(String.format(Locale.ROOT, " %.4f ± %.4f |", mean(xs), sd(xs)));
            if (reference == null || variant.equals("default") || !reference.containsKey(metric)) {
                b.append(" |\n");
                return;
            }
            double[] ref = reference.get(metric), effect = new double[xs.length];
            for (int i = 0; i < xs.length; i++) {
                effect[i] = xs[i] / ref[i] - 1;
            }
            double[] ci = tInterval(effect);
            b.append(String.format(
                    Locale.ROOT, " %+.1f%% [%+.1f%%, %+.1f%%] |%n", 100 * mean(effect), 100 * ci[0], 100 * ci[1]));
        }));
        b.append("\n## two_tower over engagement_only per world (paired bootstrap intervals over users)\n\n"
                + "| world | conversion recall@100 lift | conversion recall@1000 lift | online A/B conversions per 1,000 "
                + "impressions | its lift |\n|---|---|---|---|---|\n");
        for (int w = 0; w < worlds.size(); w++) {
            JsonNode m = metrics.get(w);
            b.append("| ")
                    .append(worlds.get(w))
                    .append(" | ")
                    .append(recallLift(m, 100))
                    .append(" | ")
                    .append(recallLift(m, 1000))
                    .append(" | ")
                    .append(online(m, false))
                    .append(" | ")
                    .append(online(m, true))
                    .append(" |\n");
        }
        return b.toString();
    }

    private static String recallLift(JsonNode m, int k) {
        if (m == null || m.get("comparisons") == null) {
            return "n/a";
        }
        for (JsonNode c : m.get("comparisons")) {
            if (c.get("model").asText().equals("two_tower")
                    && c.get("reference").asText().equals("engagement_only")
                    && c.get("task").asText().equals("conversion")
                    && c.get("surface").asText().equals("all")
                    && c.get("k").asInt() == k
                    && c.get("metric").asText().equals("event_hit_rate")) {
                return pct(c.get("lift")) + " [" + pct(c.get("ci_low")) + ", " + pct(c.get("ci_high")) + "]";
            }
        }
        return "n/a";
    }

    private static String online(JsonNode m, boolean lift) {
        if (m == null || m.get("online_ab") == null) {
            return "n/a";
        }
        for (JsonNode a : m.get("online_ab").get("arms")) {
            if (a.get("arm").asText().equals("two_tower")) {
                JsonNode r = a.get("rates").get("conversions_per_1000");
                if (!lift) {
                    return String.format(Locale.ROOT, "%.3f", r.get("value").asDouble());
                }
                return r.has("lift")
                        ? pct(r.get("lift")) + " [" + pct(r.get("lift_ci_low")) + ", " + pct(r.get("lift_ci_high"))
                                + "]"
                        : "n/a";
            }
        }
        return "n/a";
    }

    private static String pct(JsonNode x) {
        return x == null || x.isNull() ? "n/a" : String.format(Locale.ROOT, "%+.1f%%", 100 * x.asDouble());
    }

    /** Two-sided 95% t interval of the mean; NaN bounds with fewer than two values. */
    static double[] tInterval(double[] xs) {
        if (xs.length < 2) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double half =
                new TDistribution(xs.length - 1).inverseCumulativeProbability(0.975) * sd(xs) / Math.sqrt(xs.length);
        return new double[] {mean(xs) - half, mean(xs) + half};
    }

    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.length;
    }

    static double sd(double[] xs) {
        if (xs.length < 2) {
            return 0;
        }
        double m = mean(xs), s = 0;
        for (double x : xs) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (xs.length - 1));
    }

    private static double[] nan(int n) {
        double[] a = new double[n];
        Arrays.fill(a, Double.NaN);
        return a;
    }
}
