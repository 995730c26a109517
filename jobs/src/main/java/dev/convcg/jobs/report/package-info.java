/**
 * Renders what an evaluation run found: {@link EvaluationReport} gathers each model's recall@K with bootstrap
 * intervals, lifts over the click-trained retriever, coverage, the simulated online A/B, the ablation table and the
 * data-quality summary; {@link MetricsJson} writes {@code metrics.json} (the contract other tools read) and
 * {@link ReportHtml} a self-contained {@code report.html}. It only formats figures that pipeline-core's evaluation
 * computed and computes no recall itself.
 */
package dev.convcg.jobs.report;
