package dev.convcg.jobs.io;

import dev.convcg.core.schema.Quarantine;
import dev.convcg.core.schema.RawTables;
import dev.convcg.core.sim.Simulator;
import dev.convcg.core.training.TrainingDataSchemas;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

/**
 * The one place that knows where the pipeline keeps its outputs under {@code storage.root}, and the name of every
 * table it writes. Each table name is declared once, next to its schema (raw logs in {@link RawTables}, training data
 * in {@link TrainingDataSchemas}, the simulator's truth in {@link Simulator}, the quarantine in {@link Quarantine},
 * published embeddings here); this class lists them all, so tools and docs can enumerate them.
 *
 * <pre>
 * storage.root/
 *   tables/&lt;table&gt;/          Delta tables, partitioned by ds ({@link DeltaTables})
 *   models/                    versioned model artifacts behind LATEST ({@link ModelStore}; train.model-store)
 *   embeddings/&lt;table&gt;/      published Parquet embeddings ({@link EmbeddingStore}; infer-embeddings.output-root)
 *   baselines/als/ds=&lt;day&gt;/  stored ALS fits ({@link AlsFactorStore})
 *   reports/&lt;run date&gt;/      metrics.json, report.html, ablation.json
 *   ablation/&lt;run date&gt;/&lt;variant&gt;-seed&lt;n&gt;/   an ablation run's scratch models and embeddings
 *   _markers/&lt;stage&gt;/ds=&lt;day&gt;/_SUCCESS   stage success markers ({@link StageMarkers})
 * </pre>
 */
public final class StorageLayout {
    public static final String TABLES = "tables";
    public static final String MODELS = "models";
    public static final String EMBEDDINGS = "embeddings";
    public static final String ALS_BASELINE = "baselines/als";
    public static final String REPORTS = "reports";
    public static final String MARKERS = "_markers";
    public static final String ABLATION = "ablation";

    /** Published embeddings, Parquet under {@link #EMBEDDINGS}. */
    public static final String PIN_EMBEDDINGS = "pin_embeddings";

    public static final String USER_EMBEDDINGS = "user_embeddings";

    /** Every Delta table the stages write under {@link #TABLES}. */
    public static final List<String> DELTA_TABLES = List.of(
            RawTables.IMPRESSIONS,
            RawTables.ENGAGEMENTS,
            RawTables.CONVERSIONS,
            RawTables.PINS,
            RawTables.USERS,
            Quarantine.TABLE,
            TrainingDataSchemas.TRAINING_EXAMPLES_TABLE,
            TrainingDataSchemas.USER_FEATURES_TABLE,
            TrainingDataSchemas.PIN_FEATURES_TABLE,
            Simulator.TRUTH_USERS,
            Simulator.TRUTH_PINS);

    /** Every embedding table under {@link #EMBEDDINGS}. */
    public static final List<String> EMBEDDING_TABLES = List.of(PIN_EMBEDDINGS, USER_EMBEDDINGS);

    private StorageLayout() {}

    /** {@code root/part}, whatever the root's trailing slashes (a local path or a Hadoop URI). */
    public static String under(String storageRoot, String part) {
        return storageRoot.replaceAll("/+$", "") + "/" + part;
    }

    /** The default of {@code train.model-store}. */
    public static String models(String storageRoot) {
        return under(storageRoot, MODELS);
    }

    /** The default of {@code infer-embeddings.output-root}. */
    public static String embeddings(String storageRoot) {
        return under(storageRoot, EMBEDDINGS);
    }

    /** Scratch root of one ablation run (its models/ and embeddings/), an absolute local path. */
    public static String ablationRun(String storageRoot, LocalDate runDate, String variant, int seed) {
        return Path.of(storageRoot, ABLATION, runDate.toString(), variant + "-seed" + seed)
                .toAbsolutePath()
                .toString();
    }

    /** Directory of one run's reports. */
    public static String reports(String storageRoot, LocalDate runDate) {
        return under(storageRoot, REPORTS + "/" + runDate);
    }
}
