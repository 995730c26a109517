/**
 * A deterministic simulator of a shopping-ads platform that produces the raw tables as Spark Datasets: a latent
 * {@link World} of users with distinct engagement interest and purchase intent, pins and advertisers, and an
 * {@link EventGenerator} that emits impressions, clicks, dwell, saves, re-engagement (return visits) and delayed,
 * sometimes duplicated conversion reports. It also replays the evaluation days as a simulated online A/B test
 * ({@link OnlineReplay}) against the world's ground truth. It exists so the whole pipeline can be run and its recall
 * checked against known true propensities; it writes nothing itself, and the same settings give the same tables
 * whatever the partitioning.
 */
package dev.convcg.core.sim;
