package dev.convcg.tools.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.storage.RDDInfo;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Records every completed Spark stage (duration, the SQL operators it ran, rows in and out of its shuffles) so a
 * benchmark can print where a job's time went, the way the Spark UI's stage table shows it. A profiling aid for
 * benchmarks, not used by the jobs.
 */
public final class SparkStageTimes extends SparkListener {
    /** One completed Spark stage. */
    public record Stage(
            int id,
            double seconds,
            String operators,
            long inputRows,
            long shuffleReadRows,
            long shuffleWriteRows,
            long outputRows) {}

    private final List<Stage> stages = new ArrayList<>();

    @Override
    public synchronized void onStageCompleted(SparkListenerStageCompleted event) {
        StageInfo info = event.stageInfo();
        if (info.submissionTime().isEmpty() || info.completionTime().isEmpty()) {
            return;
        }
        double seconds = ((Long) info.completionTime().get()
                        - (Long) info.submissionTime().get())
                / 1e3;
        String operators = CollectionConverters.asJava(info.rddInfos()).stream()
                .filter(r -> r.scope().isDefined())
                .sorted(Comparator.comparingInt(RDDInfo::id))
                .map(r -> r.scope().get().name())
                .distinct()
                .collect(Collectors.joining(" > "));
        var m = info.taskMetrics();
        stages.add(new Stage(
                info.stageId(),
                seconds,
                operators,
                m.inputMetrics().recordsRead(),
                m.shuffleReadMetrics().recordsRead(),
                m.shuffleWriteMetrics().recordsWritten(),
                m.outputMetrics().recordsWritten()));
    }

    /** The {@code n} longest stages recorded so far, as a Markdown table. */
    public synchronized String longest(int n) {
        double total = stages.stream().mapToDouble(Stage::seconds).sum();
        StringBuilder b = new StringBuilder(String.format(
                Locale.ROOT,
                "%d Spark stages, %.1f s in all (stages can overlap); the %d longest:%n"
                        + "| stage | s | input rows | shuffle read rows | shuffle write rows | output rows | operators |%n"
                        + "|---|---|---|---|---|---|---|%n",
                stages.size(),
                total,
                Math.min(n, stages.size())));
        stages.stream()
                .sorted(Comparator.comparingDouble(Stage::seconds).reversed())
                .limit(n)
                .forEach(s -> b.append(String.format(
                        Locale.ROOT,
                        "| %d | %.1f | %,d | %,d | %,d | %,d | %s |%n",
                        s.id(),
                        s.seconds(),
                        s.inputRows(),
                        s.shuffleReadRows(),
                        s.shuffleWriteRows(),
                        s.outputRows(),
                        s.operators())));
        return b.toString();
    }
}
