/**
 * Binds the layered HOCON configuration ({@code --set}, system properties, the {@code --config} file, reference.conf)
 * once at start-up into immutable records: {@link ConfigLoader} loads and refuses unknown keys, {@link PipelineConfig}
 * holds the bound result, and {@link Settings} turns every bad value into an {@link InvalidConfigException} (exit code
 * 2). It is kept apart so that binding happens once, at start-up, and the config library stays in the jobs module:
 * pipeline-core and the model only ever receive their own typed settings records (attribution windows, hard-negative
 * rates, smoothing, model and trainer configs).
 */
package dev.convcg.jobs.config;
