/**
 * Operator tools that run beside the pipeline, not as stages of it: {@link CompareOutputs} checks that two runs
 * produced the same tables and model, {@link Sql} queries the pipeline's tables and embeddings for inspection, and
 * {@link WorldsTable} summarises ablations across simulated worlds. They only read what the stages wrote and change
 * nothing, so they are kept out of the stage dispatch.
 */
package dev.convcg.tools.ops;
