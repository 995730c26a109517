package dev.convcg.tools.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The simulated world the stage benchmarks share: every user active every day, 20 impressions a day. */
final class BenchWorld {
    static final int IMPRESSIONS_PER_USER_DAY = 20;

    private BenchWorld() {}

    /** Config overrides for {@code impressions} impressions over {@code days} days stored under {@code root}. */
    static Map<String, String> overrides(Path root, long impressions, int days) {
        Map<String, String> sets = new LinkedHashMap<>();
        sets.put("storage.root", "\"" + root + "\"");
        sets.put("simulate.days", String.valueOf(days));
        sets.put("simulate.users", String.valueOf(impressions / ((long) days * IMPRESSIONS_PER_USER_DAY)));
        sets.put("simulate.pins", "200000");
        sets.put("simulate.advertisers", "4000");
        sets.put("simulate.categories", "100");
        sets.put("simulate.impressions-per-user-day", String.valueOf(IMPRESSIONS_PER_USER_DAY));
        sets.put("simulate.active-user-rate", "1.0");
        sets.put("simulate.partitions", "8");
        return sets;
    }
}
