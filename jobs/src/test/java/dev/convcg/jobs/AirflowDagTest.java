package dev.convcg.jobs;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Airflow cannot be installed where the tests run, so the DAG is checked with Python's own parser
 * (scripts/airflow/check_dag.py): it compiles, its task graph is one chain from the log sensor to evaluate, every task
 * runs a stage the launcher knows, retries back off; and it imports against stand-ins of the Airflow 3 and 2.x module
 * layouts, with the evaluate SLA on 2.x only (Airflow 3 removed task SLAs).
 */
class AirflowDagTest {
    @Test
    void theDagCompilesAndRunsKnownStagesInOrder() throws Exception {
        File repo = new File("..").getCanonicalFile();
        Set<String> stages = new LinkedHashSet<>(Main.STAGES.keySet());
        stages.addAll(Main.NIGHTLY);
        List<String> cmd = new ArrayList<>(List.of(
                "python3", "scripts/airflow/check_dag.py", "scripts/airflow/convcg_nightly.py", repo.getPath()));
        cmd.addAll(stages);
        Process p = new ProcessBuilder(cmd)
                .directory(repo)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(
                out.contains("wait_for_logs[check-inputs] >> build_training_data[build-training-data] >> train[train]"
                        + " >> infer_embeddings[infer-embeddings] >> evaluate[evaluate]"),
                out);
        assertTrue(out.contains("Airflow 3.0.2 layout: imports; 5 tasks; SLA on none"), out);
        assertTrue(out.contains("Airflow 2.10.5 layout: imports; 5 tasks; SLA on ['evaluate']"), out);
    }
}
