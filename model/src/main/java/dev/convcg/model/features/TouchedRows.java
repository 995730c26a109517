package dev.convcg.model.features;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct rows of each embedding table that one batch reads, and a compact numbering of
 * them. Slot 0 of every table is a padding slot (read by the unused positions of sequences, whose
 * mask is 0); touched rows get slots 1, 2, … in first-seen order. {@link FeatureTensors} writes
 * slots instead of table rows when given an instance, so a step can gather the touched rows once
 * into a small leaf tensor, back-propagate into it, and update only those rows (lazy Adam).
 *
 * <p>Reusable across steps ({@link #reset} clears only what the last batch touched). Not
 * thread-safe.
 */
public final class TouchedRows {
    private final Map<String, Table> tables = new HashMap<>();

    /** @param buckets table name → number of rows */
    public TouchedRows(Map<String, Integer> buckets) {
        buckets.forEach((name, n) -> tables.put(name, new Table(n)));
    }

    /** One entry per table of the schema (owners and sharing features resolve to the owner). */
    public static TouchedRows of(FeatureSchema schema) {
        Map<String, Integer> b = new HashMap<>();
        schema.tables().forEach((name, spec) -> b.put(name, spec.buckets()));
        return new TouchedRows(b);
    }

    /** Forgets the previous batch. */
    public void reset() {
        tables.values().forEach(Table::reset);
    }

    /** The compact slot (≥ 1) of {@code row} in {@code table}, assigning the next one if new. */
    public long slot(String table, long row) {
        Table t = tables.get(table);
        if (t == null) {
            throw new IllegalArgumentException("no embedding table '" + table + "'; tables: " + tables.keySet());
        }
        return t.slot((int) row);
    }

    /**
     * Table rows by slot: element 0 is the padding slot's source row (0), then the touched rows
     * in slot order; length = touched + 1.
     */
    public long[] rowsWithPadding(String table) {
        Table t = tables.get(table);
        long[] out = new long[t.count + 1];
        for (int i = 0; i < t.count; i++) {
            out[i + 1] = t.rows[i];
        }
        return out;
    }

    /** Number of distinct rows of {@code table} touched since the last reset. */
    public int touched(String table) {
        return tables.get(table).count;
    }

    public List<String> tableNames() {
        return List.copyOf(tables.keySet());
    }

    private static final class Table {
        private final int[] slotOf; // 0 = untouched, else slot
        private int[] rows = new int[1024];
        private int count;

        Table(int buckets) {
            slotOf = new int[buckets];
        }

        long slot(int row) {
            int s = slotOf[row];
            if (s == 0) {
                if (count == rows.length) {
                    rows = Arrays.copyOf(rows, rows.length * 2);
                }
                rows[count++] = row;
                s = count;
                slotOf[row] = s;
            }
            return s;
        }

        void reset() {
            for (int i = 0; i < count; i++) {
                slotOf[rows[i]] = 0;
            }
            count = 0;
        }
    }
}
