package dev.convcg.core.training;

import static org.apache.spark.sql.functions.*;

import dev.convcg.core.schema.RawTables;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The {@code build-training-data} transformation: from the raw tables (already read by the caller) and the run date
 * D, the training examples of the days {@code [D − lookback + 1, D]} relabelled with every conversion reported up to
 * D, the user and pin feature snapshots of {@code [D − lookback + 1, D + 1]} (D + 1 is what serving after this run
 * reads) and the quarantine. Rows dated after D are ignored, so re-running a day gives the same output. The caller
 * reads raw partitions from {@link #inputStart} to D and replaces exactly the output day ranges.
 */
public final class TrainingDataBuilder {
    private TrainingDataBuilder() {}

    /**
     * Everything one run produces. All Datasets are lazy; {@code examples}, {@code userFeatures} and
     * {@code pinFeatures} are partitioned by {@code ds}.
     */
    public record TrainingData(
            LocalDate runDate,
            LocalDate firstExampleDay,
            LocalDate lastSnapshotDay,
            Dataset<Row> examples,
            Dataset<Row> userFeatures,
            Dataset<Row> pinFeatures,
            Dataset<Row> quarantine,
            RawValidation.Result validation,
            Dataset<Row> conversions,
            ConversionAttribution.Result attribution,
            List<Dataset<Row>> persisted) {

        /** Frees the intermediate results this run persisted; call it once everything is written. */
        public void release() {
            persisted.forEach(Dataset::unpersist);
        }

        /** The {@code replaceWhere} predicate of the examples of this run. */
        public String examplesReplaceWhere() {
            return RawTables.DS + " >= '" + firstExampleDay + "' AND " + RawTables.DS + " <= '" + runDate + "'";
        }

        /** The {@code replaceWhere} predicate of the feature snapshots of this run. */
        public String snapshotsReplaceWhere() {
            return RawTables.DS + " >= '" + firstExampleDay + "' AND " + RawTables.DS + " <= '" + lastSnapshotDay + "'";
        }
    }

    /**
     * The events are read by several branches of the plan (quarantine, attribution, labels, features, summary); each
     * event table is persisted (memory and disk) once as validated, with its reason column, so the raw input is read
     * and validated in one pass: the accepted rows and the quarantine are both filters of that cache. The labelled
     * examples are persisted too (the sampling probabilities read them twice, and each read would otherwise repeat
     * the join of the engagements with their impressions), and so are the feature snapshots, which both the examples
     * and the snapshot tables are made of. {@link TrainingData#release()} frees them.
     */
    private static Dataset<Row> reused(Dataset<Row> d, List<Dataset<Row>> persisted) {
        persisted.add(d.persist(StorageLevel.MEMORY_AND_DISK()));
        return d;
    }

    /** First example day of the run of {@code runDate}. */
    public static LocalDate firstExampleDay(LocalDate runDate, TrainingDataSettings s) {
        return runDate.minusDays(s.lookbackDays() - 1L);
    }

    /** First raw partition a run needs: the feature and click-through windows before its first example day, and one more for clicks on the previous day's impressions. */
    public static LocalDate inputStart(LocalDate runDate, TrainingDataSettings s) {
        return firstExampleDay(runDate, s).minusDays(Math.max(s.featureWindowDays(), s.clickThroughWindowDays()) + 1L);
    }

    public static TrainingData build(Map<String, Dataset<Row>> raw, LocalDate runDate, TrainingDataSettings s) {
        LocalDate first = firstExampleDay(runDate, s);
        LocalDate lastSnapshot = runDate.plusDays(1);
        RawValidation.Result v = RawValidation.validate(raw, runDate.toString());
        String upTo = runDate.toString();
        List<Dataset<Row>> persisted = new ArrayList<>();
        for (String t : RawTables.EVENTS) {
            reused(v.tagged().get(t), persisted);
        }
        Dataset<Row> impressions =
                v.accepted().get(RawTables.IMPRESSIONS).filter(col(RawTables.DS).leq(upTo));
        Dataset<Row> engagements =
                v.accepted().get(RawTables.ENGAGEMENTS).filter(col(RawTables.DS).leq(upTo));
        Dataset<Row> conversions = reused(
                ConversionAttribution.deduplicate(v.accepted()
                        .get(RawTables.CONVERSIONS)
                        .filter(col(RawTables.DS).leq(upTo))),
                persisted);
        Dataset<Row> pins =
                v.accepted().get(RawTables.PINS).filter(col(RawTables.DS).leq(lastSnapshot.toString()));
        Dataset<Row> users =
                v.accepted().get(RawTables.USERS).filter(col(RawTables.DS).leq(lastSnapshot.toString()));

        ConversionAttribution.Result attributed =
                ConversionAttribution.attribute(conversions, impressions, engagements, s);
        ConversionAttribution.Result attribution =
                new ConversionAttribution.Result(reused(attributed.attributed(), persisted), attributed.unattributed());
        Dataset<Row> unweighted = reused(
                ExampleLabeler.label(
                        impressions, engagements, conversions, attribution.attributed(), first, runDate, s),
                persisted);
        Dataset<Row> labelled = SamplingProbability.attach(unweighted);
        if (s.sampledNegatives().enabled()) {
            labelled = labelled.unionByName(SampledNegatives.sample(labelled, pins, first, runDate, s));
        }
        Dataset<Row> userFeatures =
                reused(FeatureBuilder.userFeatures(users, engagements, conversions, first, lastSnapshot, s), persisted);
        Dataset<Row> pinFeatures = reused(
                FeatureBuilder.pinFeatures(
                        pins, impressions, engagements, attribution.attributed(), first, lastSnapshot, s),
                persisted);
        Dataset<Row> examples = FeatureBuilder.assemble(
                labelled,
                userFeatures.filter(col(RawTables.DS).leq(upTo)),
                pinFeatures.filter(col(RawTables.DS).leq(upTo)),
                s);
        return new TrainingData(
                runDate,
                first,
                lastSnapshot,
                examples,
                userFeatures,
                pinFeatures,
                v.quarantine(),
                v,
                conversions,
                attribution,
                List.copyOf(persisted));
    }
}
