/**
 * The settings records of the two-tower model and its trainer: {@link ModelConfig} (towers, cross layers, heads,
 * temperature, loss terms, hard negatives, logQ, re-engagement bias) and {@link TrainerConfig} (optimiser, schedule,
 * checkpoints, devices). Every ablation lever is a field, so an experiment is a config diff, and {@link ConfigHash}
 * fingerprints a configuration for version ids and checkpoint resumes. These are plain validated Java records: no DJL,
 * no Spark and no config library (the jobs module binds HOCON into them).
 */
package dev.convcg.model.config;
