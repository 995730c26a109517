package dev.convcg.core.eval;

import static org.apache.spark.sql.functions.*;
import static org.apache.spark.sql.types.DataTypes.*;

import dev.convcg.core.schema.Surface;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Exact top-K retrieval by dot product over a whole catalog: each executor task multiplies blocks of query
 * embeddings by blocks of pin embeddings ({@link BlockScorer}: BLAS {@code sgemm} or libtorch) and folds every block's scores into a bounded top-K
 * per query, so no score matrix larger than one block pair ever exists. Ties are broken by the smaller pin id, so the
 * result does not depend on block sizes, partitioning or catalog order.
 *
 * <p>Unlike MLlib ALS's {@code recommendForAll}, which cross-joins query blocks with item blocks and shuffles one
 * partial top-K per (query, item block), the catalog is broadcast once and the partial top-Ks are merged in place:
 * at 150k queries, 25 item blocks and K = 1000 the shuffle would be about 45 GB, while the broadcast is the catalog
 * itself (100k pins × 64 floats = 26 MB). The catalog must therefore fit in an executor's memory.
 *
 * <p>A per-(user, pin) bonus (the re-engagement bias of the user's history pins, {@link Reengagement}) is added to
 * the pin's score inside the same scan, before the top-K sees it, so the lists are the exact top-K of the biased
 * score whatever the bonus's sign, with no second pass over the lists.
 */
public final class TopKRetrieval {
    public static final String USER_ID = "user_id";
    public static final String SURFACE = "surface";
    public static final String PIN_ID = "pin_id";
    public static final String EMBEDDING = "embedding";
    public static final String PIN_IDS = "pin_ids";
    public static final String SCORES = "scores";
    /** Score added to a (user, pin), in score units: the bonus input of the biased top-K. */
    public static final String BONUS = "bonus";

    private static final String BONUS_PINS = "_bonus_pins";
    private static final String BONUSES = "_bonuses";

    private TopKRetrieval() {}

    /**
     * The top {@code k} pins of every query, best first.
     *
     * @param queries (user_id long, [surface string], embedding array&lt;float&gt;); rows with a null embedding are
     *                skipped (their events then count as misses, see {@link RecallMetrics})
     * @param items   (pin_id long, embedding array&lt;float&gt;): the catalog; pins with a null embedding cannot be
     *                retrieved
     * @return (user_id, [surface], pin_ids array&lt;long&gt;, scores array&lt;float&gt;), one row per query, pin_ids of
     *         length min(k, catalog size), best first
     */
    public static Dataset<Row> topK(
            Dataset<Row> queries, Dataset<Row> items, int k, int queryBlockSize, int itemBlockSize) {
        return topK(queries, items, k, queryBlockSize, itemBlockSize, null, BlockScorer.BLAS_SGEMM);
    }

    /**
     * The top {@code k} pins of every query by {@code u·p + bonus(user, pin)}, best first.
     *
     * @param bonuses (user_id, pin_id, bonus float): added to the score of that pin in every query of that user; pins
     *                outside the catalog are ignored; null: no bonus
     * @param scorer  the block product
     * @see #topK(Dataset, Dataset, int, int, int)
     */
    public static Dataset<Row> topK(
            Dataset<Row> queries,
            Dataset<Row> items,
            int k,
            int queryBlockSize,
            int itemBlockSize,
            Dataset<Row> bonuses,
            BlockScorer scorer) {
        if (k <= 0 || queryBlockSize <= 0 || itemBlockSize <= 0) {
            throw new IllegalArgumentException("k, query and item block sizes must be positive: k = " + k
                    + ", query-block-size = " + queryBlockSize + ", item-block-size = " + itemBlockSize);
        }
        boolean bySurface = Arrays.asList(queries.columns()).contains(SURFACE);
        Catalog catalog = Catalog.of(items, itemBlockSize);
        Broadcast<Catalog> shared = JavaSparkContext.fromSparkContext(
                        queries.sparkSession().sparkContext())
                .broadcast(catalog);
        StructType schema = new StructType().add(USER_ID, LongType, false);
        if (bySurface) {
            schema = schema.add(SURFACE, StringType, true);
        }
        schema = schema.add(PIN_IDS, createArrayType(LongType, false), false)
                .add(SCORES, createArrayType(FloatType, false), false);
        List<Column> in = new ArrayList<>(List.of(col(USER_ID)));
        if (bySurface) {
            in.add(col(SURFACE));
        }
        in.add(col(EMBEDDING));
        Dataset<Row> scored = queries.filter(col(EMBEDDING).isNotNull());
        boolean withBonus = bonuses != null;
        if (withBonus) {
            // Only the queried users' bonuses, and a shuffle join: the planner's size estimate of the grouped lists
            // can be far below their size, and a broadcast of every user's history does not fit a driver at scale.
            Dataset<Row> perUser = bonuses.join(scored.select(USER_ID).distinct(), new String[] {USER_ID}, "left_semi")
                    .groupBy(USER_ID)
                    .agg(
                            collect_list(PIN_ID).as(BONUS_PINS),
                            collect_list(col(BONUS).cast("float")).as(BONUSES));
            scored = scored.join(perUser.hint("shuffle_hash"), new String[] {USER_ID}, "left");
            in.add(col(BONUS_PINS));
            in.add(col(BONUSES));
        }
        int kept = Math.min(k, Math.max(1, catalog.size()));
        // One task per core: a scan costs queries × catalog however few bytes the queries are, so the planner's
        // size-based partitioning (one or three partitions for 100k queries) would leave cores idle.
        int tasks = queries.sparkSession().sparkContext().defaultParallelism();
        return scored.select(in.toArray(Column[]::new))
                .repartition(tasks)
                .mapPartitions(
                        (MapPartitionsFunction<Row, Row>) rows -> new BlockIterator(
                                rows, shared.value(), kept, queryBlockSize, bySurface, withBonus, scorer),
                        Encoders.row(schema));
    }

    /** Expands per-user embeddings (user_id, embedding) to one query per surface (user_id, surface, embedding). */
    public static Dataset<Row> forAllSurfaces(Dataset<Row> userEmbeddings) {
        Column surfaces =
                array(Arrays.stream(Surface.values()).map(s -> lit(s.name())).toArray(Column[]::new));
        return userEmbeddings.select(col(USER_ID), explode(surfaces).as(SURFACE), col(EMBEDDING));
    }

    /**
     * The catalog as row-major float blocks, broadcast to every executor, in the order of a hash of the pin id: a
     * fixed order unrelated to score, so a query's heap replaces its root about K·ln(N/K) times rather than up to N
     * times when scores trend with pin id (docs/benchmarks.md, issue 9).
     */
    static final class Catalog implements Serializable {
        final int dim;
        final int blockSize;
        final long[][] ids;
        final float[][] vectors;
        /** Every pin id, ascending, and its position {@code block · blockSize + offset}: the bonus lookup. */
        private final long[] sortedIds;

        private final int[] sortedPositions;

        private Catalog(int dim, int blockSize, long[][] ids, float[][] vectors) {
            this.dim = dim;
            this.blockSize = blockSize;
            this.ids = ids;
            this.vectors = vectors;
            int n = Arrays.stream(ids).mapToInt(b -> b.length).sum();
            long[] packed = new long[n];
            int[] positions = new int[n];
            int at = 0;
            for (int b = 0; b < ids.length; b++) {
                for (int j = 0; j < ids[b].length; j++) {
                    packed[at] = ids[b][j];
                    positions[at++] = b * blockSize + j;
                }
            }
            Integer[] order = new Integer[n];
            Arrays.setAll(order, i -> i);
            Arrays.sort(order, (x, y) -> Long.compare(packed[x], packed[y]));
            this.sortedIds = new long[n];
            this.sortedPositions = new int[n];
            for (int i = 0; i < n; i++) {
                sortedIds[i] = packed[order[i]];
                sortedPositions[i] = positions[order[i]];
            }
        }

        int size() {
            return sortedIds.length;
        }

        /** The pin's position {@code block · blockSize + offset}, or −1 when it is not in the catalog. */
        int position(long pinId) {
            int i = Arrays.binarySearch(sortedIds, pinId);
            return i < 0 ? -1 : sortedPositions[i];
        }

        static Catalog of(Dataset<Row> items, int blockSize) {
            List<Row> rows = items.select(col(PIN_ID), col(EMBEDDING))
                    .filter(col(EMBEDDING).isNotNull())
                    .orderBy(xxhash64(col(PIN_ID)), col(PIN_ID))
                    .collectAsList();
            int dim = rows.isEmpty() ? 0 : rows.get(0).getList(1).size();
            if (!rows.isEmpty() && dim == 0) {
                throw new IllegalArgumentException("pin " + rows.get(0).getLong(0) + " has an empty embedding");
            }
            int blocks = (rows.size() + blockSize - 1) / blockSize;
            long[][] ids = new long[blocks][];
            float[][] vectors = new float[blocks][];
            for (int b = 0; b < blocks; b++) {
                int from = b * blockSize, n = Math.min(blockSize, rows.size() - from);
                ids[b] = new long[n];
                vectors[b] = new float[n * dim];
                for (int j = 0; j < n; j++) {
                    Row r = rows.get(from + j);
                    ids[b][j] = r.getLong(0);
                    copy(r.getList(1), vectors[b], j * dim, dim, "pin " + r.getLong(0));
                }
            }
            return new Catalog(dim, blockSize, ids, vectors);
        }
    }

    static void copy(List<Object> embedding, float[] into, int offset, int dim, String what) {
        if (embedding.size() != dim) {
            throw new IllegalArgumentException(what + " has an embedding of dimension " + embedding.size()
                    + ", expected " + dim + " (the catalog's)");
        }
        for (int i = 0; i < dim; i++) {
            Object x = embedding.get(i);
            into[offset + i] = x == null ? Float.NaN : ((Number) x).floatValue();
        }
    }

    /** Reads one block of queries at a time and emits their top-K rows. */
    private static final class BlockIterator implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final Catalog catalog;
        private final int k;
        private final int blockSize;
        private final boolean bySurface;
        private final boolean withBonus;
        private final BlockScorer scorer;
        private final List<Row> out = new ArrayList<>();
        private BlockScorer.Scan scan;
        private int next;

        BlockIterator(
                Iterator<Row> rows,
                Catalog catalog,
                int k,
                int blockSize,
                boolean bySurface,
                boolean withBonus,
                BlockScorer scorer) {
            this.rows = rows;
            this.catalog = catalog;
            this.k = k;
            this.blockSize = blockSize;
            this.bySurface = bySurface;
            this.withBonus = withBonus;
            this.scorer = scorer;
        }

        @Override
        public boolean hasNext() {
            while (next >= out.size()) {
                if (!rows.hasNext()) {
                    closeScan();
                    return false;
                }
                out.clear();
                next = 0;
                scoreBlock();
            }
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return out.get(next++);
        }

        /** Opens the scan at the first block; the task's end closes it, whether the partition was drained or not. */
        private BlockScorer.Scan scan() {
            if (scan == null) {
                scan = scorer.open(catalog.vectors, catalog.dim);
                TaskContext task = TaskContext.get();
                if (task != null) {
                    task.addTaskCompletionListener((TaskCompletionListener) context -> closeScan());
                }
            }
            return scan;
        }

        private void closeScan() {
            if (scan != null) {
                scan.close();
                scan = null;
            }
        }

        private void scoreBlock() {
            List<Row> block = new ArrayList<>(blockSize);
            while (rows.hasNext() && block.size() < blockSize) {
                block.add(rows.next());
            }
            int m = block.size(), d = catalog.dim, e = bySurface ? 2 : 1;
            float[] q = new float[m * d];
            BoundedTopK[] best = new BoundedTopK[m];
            Bonus[] bonus = new Bonus[m];
            for (int i = 0; i < m; i++) {
                copy(
                        block.get(i).getList(e),
                        q,
                        i * d,
                        d,
                        "query of user " + block.get(i).getLong(0));
                best[i] = new BoundedTopK(k);
                bonus[i] = withBonus ? Bonus.of(block.get(i), e + 1, catalog) : Bonus.NONE;
            }
            float[] scores = new float[0];
            for (int b = 0; b < catalog.ids.length; b++) {
                long[] ids = catalog.ids[b];
                int n = ids.length;
                if (scores.length < n * m) {
                    scores = new float[n * m];
                }
                scan().score(b, q, m, scores);
                int from = b * catalog.blockSize;
                for (int i = 0; i < m; i++) {
                    bonus[i].addTo(scores, i * n, from, from + n);
                    best[i].offerAll(scores, i * n, ids, n);
                }
            }
            for (int i = 0; i < m; i++) {
                Row r = block.get(i);
                int size = best[i].size();
                long[] pins = new long[size];
                float[] s = new float[size];
                best[i].drainBestFirst(pins, s);
                out.add(
                        bySurface
                                ? RowFactory.create(r.getLong(0), r.getString(1), pins, s)
                                : RowFactory.create(r.getLong(0), pins, s));
            }
        }
    }

    /** One query's bonuses as catalog positions, ascending, applied block by block. */
    private record Bonus(int[] positions, float[] values) {
        static final Bonus NONE = new Bonus(new int[0], new float[0]);

        static Bonus of(Row query, int pinsColumn, Catalog catalog) {
            if (query.isNullAt(pinsColumn)) {
                return NONE;
            }
            List<Long> pins = query.getList(pinsColumn);
            List<Float> values = query.getList(pinsColumn + 1);
            long[] packed = new long[pins.size()];
            int n = 0;
            for (int j = 0; j < pins.size(); j++) {
                int position = catalog.position(pins.get(j));
                if (position >= 0) {
                    packed[n++] = ((long) position << 32) | j;
                }
            }
            Arrays.sort(packed, 0, n);
            int[] positions = new int[n];
            float[] v = new float[n];
            for (int j = 0; j < n; j++) {
                positions[j] = (int) (packed[j] >>> 32);
                v[j] = values.get((int) packed[j]);
            }
            return new Bonus(positions, v);
        }

        /** Adds the bonuses of catalog positions {@code [from, to)} to {@code scores[offset + position − from]}. */
        void addTo(float[] scores, int offset, int from, int to) {
            int j = Arrays.binarySearch(positions, from);
            for (j = j < 0 ? -j - 1 : j; j < positions.length && positions[j] < to; j++) {
                scores[offset + positions[j] - from] += values[j];
            }
        }
    }
}
