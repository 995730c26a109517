package dev.convcg.jobs.io;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Renders a small Dataset as an aligned text table for the logs (Spark's own renderer is not public API). */
public final class TextTable {
    private TextTable() {}

    public static String render(Dataset<Row> rows, int maxRows) {
        String[] header = rows.columns();
        List<String[]> cells = new ArrayList<>();
        for (Row r : rows.takeAsList(maxRows)) {
            String[] line = new String[header.length];
            for (int i = 0; i < header.length; i++) {
                line[i] = r.isNullAt(i) ? "null" : String.valueOf(r.get(i));
            }
            cells.add(line);
        }
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
            for (String[] line : cells) {
                width[i] = Math.max(width[i], line[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        appendLine(sb, header, width);
        for (String[] line : cells) {
            appendLine(sb, line, width);
        }
        return sb.toString();
    }

    private static void appendLine(StringBuilder sb, String[] cells, int[] width) {
        for (int i = 0; i < cells.length; i++) {
            sb.append(i == 0 ? "" : "  ").append(String.format("%" + width[i] + "s", cells[i]));
        }
        sb.append('\n');
    }
}
