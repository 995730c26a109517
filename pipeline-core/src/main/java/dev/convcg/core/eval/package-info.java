/**
 * Offline evaluation of retrievers: exact top-K retrieval by dot product over the whole catalog
 * ({@link TopKRetrieval}), the baselines (popularity, the user's own history, ALS, the simulator's oracle), the serving
 * side of the re-engagement bias, and conversion and engagement recall@K with bootstrap intervals over users
 * ({@link RecallMetrics}). {@link OfflineEvaluation} puts every model, two-tower or baseline, through the same
 * evaluator so their recall is comparable. It scores embeddings it is given and never loads a model: pipeline-core does
 * not depend on the model module, and like the rest of it this package does no I/O.
 */
package dev.convcg.core.eval;
