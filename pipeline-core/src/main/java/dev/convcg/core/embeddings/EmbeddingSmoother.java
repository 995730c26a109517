package dev.convcg.core.embeddings;

import static dev.convcg.core.embeddings.EmbeddingColumns.*;
import static org.apache.spark.sql.functions.*;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.StructField;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Turns a day's fresh embeddings and the previously published embeddings into the day's published embeddings:
 * <ol>
 *   <li>dedup: several fresh rows of one entity keep the last (latest {@code last_seen_ds}, then highest
 *       {@code arrival_seq});
 *   <li>smoothing of entities with both a fresh and a previous embedding, per {@link SmoothingSettings.Mode};
 *       averages are re-normalised to unit length;
 *   <li>carry-over: entities with a previous but no fresh embedding keep their previous row, flagged
 *       {@code carried_over};
 *   <li>retention: entities last active before the retention window are dropped.
 * </ol>
 * Pure: vector math runs in Spark's higher-order functions (no UDF), nothing is read or written.
 */
public final class EmbeddingSmoother {
    private static final double EPS = 1e-12;
    private final SmoothingSettings settings;

    public EmbeddingSmoother(SmoothingSettings settings) {
        this.settings = settings;
    }

    public SmoothingSettings settings() {
        return settings;
    }

    /**
     * @param fresh     key columns, {@code embedding}, {@code model_version}, {@code last_seen_ds}, {@code arrival_seq}
     * @param previous  the previously published rows (key columns + {@link EmbeddingColumns#PUBLISHED}); ignored
     *                  unless {@code decision} is CONTINUE (may be null otherwise)
     * @param keys      entity key column names
     * @param ds        the day being published
     * @param lineageId lineage of the model that produced {@code fresh}
     * @param decision  from {@link LineageRule#decide}
     * @return key columns + {@link EmbeddingColumns#PUBLISHED}
     */
    public Dataset<Row> smooth(
            Dataset<Row> fresh,
            Dataset<Row> previous,
            List<String> keys,
            LocalDate ds,
            String lineageId,
            LineageRule.Decision decision) {
        String day = ds.toString();
        Column[] keyCols = keys.stream().map(k -> col(k)).toArray(Column[]::new);
        Dataset<Row> latest = fresh.withColumn(
                        "_rank",
                        row_number()
                                .over(Window.partitionBy(keyCols)
                                        .orderBy(
                                                col(LAST_SEEN_DS).desc(),
                                                col(ARRIVAL_SEQ).desc())))
                .filter(col("_rank").equalTo(1));
        List<Column> f = new ArrayList<>();
        keys.forEach(k -> f.add(col(k)));
        f.add(normalize(col(EMBEDDING)).as("_f"));
        f.add(col(MODEL_VERSION).as("_f_version"));
        f.add(col(LAST_SEEN_DS).as("_f_seen"));
        latest = latest.select(f.toArray(Column[]::new));

        String firstSmoothing = decision == LineageRule.Decision.RESET ? RESET : NONE;
        if (decision != LineageRule.Decision.CONTINUE || previous == null) {
            return retain(publishedFresh(latest, keys, day, lineageId, lit(firstSmoothing), col("_f")), keys, ds);
        }
        List<Column> p = new ArrayList<>();
        keys.forEach(k -> p.add(col(k)));
        for (StructField c : EmbeddingColumns.PUBLISHED) {
            p.add(col(c.name()).as("_p_" + c.name()));
        }
        Dataset<Row> joined = latest.join(
                previous.select(p.toArray(Column[]::new)),
                CollectionConverters.asScala(keys).toSeq(),
                "full_outer");
        Column hasFresh = col("_f").isNotNull();
        Column hasPrev = col("_p_" + EMBEDDING).isNotNull();
        Column prevEmbedding = col("_p_" + EMBEDDING);
        Column prevFresh = col("_p_" + FRESH_EMBEDDING);
        Column smoothed = switch (settings.mode()) {
            case ACCUMULATE -> col("_f");
            case MOVING_AVERAGE -> {
                double a = settings.alpha();
                yield normalize(zip_with(
                        checked(prevEmbedding),
                        col("_f"),
                        (x, y) -> x.multiply(a).plus(y.multiply(1 - a))));
            }
            case AVERAGE_POOLING ->
                normalize(zip_with(
                        checked(prevFresh), col("_f"), (x, y) -> x.plus(y).divide(2)));
        };
        Column embedding =
                when(hasFresh.and(hasPrev), smoothed).when(hasFresh, col("_f")).otherwise(prevEmbedding);
        Column smoothing = when(hasFresh.and(hasPrev), lit(settings.mode().name()))
                .when(hasFresh, lit(NONE))
                .otherwise(col("_p_" + SMOOTHING));
        List<Column> out = new ArrayList<>();
        keys.forEach(k -> out.add(col(k)));
        out.add(embedding.cast("array<float>").as(EMBEDDING));
        out.add(when(hasFresh, col("_f"))
                .otherwise(prevFresh)
                .cast("array<float>")
                .as(FRESH_EMBEDDING));
        out.add(when(hasFresh, col("_f_version"))
                .otherwise(col("_p_" + MODEL_VERSION))
                .as(MODEL_VERSION));
        out.add(when(hasFresh, lit(lineageId))
                .otherwise(col("_p_" + LINEAGE_ID))
                .as(LINEAGE_ID));
        out.add(when(hasFresh, lit(day)).otherwise(col("_p_" + EMBEDDING_DATE)).as(EMBEDDING_DATE));
        out.add(when(hasFresh, col("_f_seen"))
                .otherwise(col("_p_" + LAST_SEEN_DS))
                .as(LAST_SEEN_DS));
        out.add(not(hasFresh).as(CARRIED_OVER));
        out.add(smoothing.as(SMOOTHING));
        return retain(joined.select(out.toArray(Column[]::new)), keys, ds);
    }

    /** First day or reset: the fresh embeddings as they are. */
    private static Dataset<Row> publishedFresh(
            Dataset<Row> latest, List<String> keys, String day, String lineageId, Column smoothing, Column fresh) {
        List<Column> out = new ArrayList<>();
        keys.forEach(k -> out.add(col(k)));
        out.add(fresh.cast("array<float>").as(EMBEDDING));
        out.add(fresh.cast("array<float>").as(FRESH_EMBEDDING));
        out.add(col("_f_version").as(MODEL_VERSION));
        out.add(lit(lineageId).as(LINEAGE_ID));
        out.add(lit(day).as(EMBEDDING_DATE));
        out.add(col("_f_seen").as(LAST_SEEN_DS));
        out.add(lit(false).as(CARRIED_OVER));
        out.add(smoothing.as(SMOOTHING));
        return latest.select(out.toArray(Column[]::new));
    }

    /** Drops entities last seen before the retention window {@code (ds - retentionDays, ds]}. */
    private Dataset<Row> retain(Dataset<Row> rows, List<String> keys, LocalDate ds) {
        return rows.filter(col(LAST_SEEN_DS).gt(retentionCutoff(ds)));
    }

    /** Last day that falls out of the retention window: entities last seen on or before it are dropped. */
    public String retentionCutoff(LocalDate ds) {
        return ds.minusDays(settings.retentionDays()).toString();
    }

    /**
     * Unit-length copy of a float vector (a zero vector stays zero). One pass sums the squares, carrying the vector
     * in the accumulator, and the finish step divides by the norm: O(d) per row. (Referencing a norm column inside
     * {@code transform}'s lambda would re-evaluate it for every element, O(d²) in Spark's interpreted higher-order
     * functions: 60 s instead of a few for 200k pins; docs/benchmarks.md.)
     */
    public static Column normalize(Column v) {
        Column start = struct(v.as("v"), lit(0.0).as("s"));
        return aggregate(
                v,
                start,
                (acc, x) -> struct(
                        acc.getField("v").as("v"),
                        acc.getField("s").plus(x.cast("double").multiply(x)).as("s")),
                acc -> transform(
                        acc.getField("v"),
                        x -> x.divide(greatest(sqrt(acc.getField("s")), lit(EPS)))
                                .cast("float")));
    }

    /** Fails the job, rather than padding with nulls, when previous and fresh vectors differ in length. */
    private static Column checked(Column previous) {
        return when(
                        size(previous).notEqual(size(col("_f"))),
                        raise_error(concat(
                                lit("previous and fresh embeddings differ in length ("),
                                size(previous).cast("string"),
                                lit(" vs "),
                                size(col("_f")).cast("string"),
                                lit("); a model of one lineage must keep its embedding-dim"))))
                .otherwise(previous);
    }
}
