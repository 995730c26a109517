package dev.convcg.model.config;

import java.util.List;

/**
 * Architecture and loss settings of the two-tower model. Every ablation lever of the evaluation
 * (parallel vs stacked towers, multi-head vs unified, advertiser loss, hard negatives, example
 * reweighting, logQ) is a field here, so an experiment is a config diff. {@link #defaults()} is the model the
 * pipeline ships (the {@code model} section of the jobs' reference.conf; a jobs test keeps the two equal), so the
 * model's own tests and benchmarks exercise that model.
 *
 * @param embeddingDim dimension E of the served (L2-normalised) embeddings
 * @param tower tower arrangement and sizes (shared by the user and the pin tower)
 * @param temperature learned softmax temperature: initial value and clamp range
 * @param heads multi-task arrangement and task weights
 * @param logQCorrection subtract {@code log(pin_sampling_prob)} from in-batch logits
 * @param hardNegatives extra hard-negative columns
 * @param advertiserLoss advertiser-level in-batch softmax
 * @param useExampleWeights multiply each row's loss by its {@code weight} column (conversion type /
 *     duration reweighting); off means every row weighs 1
 * @param reengagement learned bias for pins in the user's own history sequences
 * @param pinBias c in [0, 1): every user embedding ends in the constant c (its other coordinates
 *     scaled to keep unit norm), so a pin's last coordinate p_E adds {@code c · p_E} to every
 *     user's score, a learned per-pin bias (global conversion propensity, popularity) that a dot
 *     product of unit vectors cannot otherwise express; 0 turns it off
 */
public record ModelConfig(
        int embeddingDim,
        TowerConfig tower,
        TemperatureConfig temperature,
        HeadConfig heads,
        boolean logQCorrection,
        HardNegativeConfig hardNegatives,
        AdvertiserLossConfig advertiserLoss,
        boolean useExampleWeights,
        ReengagementConfig reengagement,
        double pinBias) {

    public ModelConfig {
        if (reengagement == null) {
            reengagement = ReengagementConfig.off();
        }
        Checks.positive("model.embeddingDim", embeddingDim);
        Checks.notNull("model.tower", tower);
        Checks.notNull("model.temperature", temperature);
        Checks.notNull("model.heads", heads);
        Checks.notNull("model.hardNegatives", hardNegatives);
        Checks.notNull("model.advertiserLoss", advertiserLoss);
        Checks.require(pinBias >= 0 && pinBias < 1, "model.pin-bias", pinBias, "a number in [0, 1)");
    }

    /** The settings without a pin bias (as before the pin bias existed). */
    public ModelConfig(
            int embeddingDim,
            TowerConfig tower,
            TemperatureConfig temperature,
            HeadConfig heads,
            boolean logQCorrection,
            HardNegativeConfig hardNegatives,
            AdvertiserLossConfig advertiserLoss,
            boolean useExampleWeights,
            ReengagementConfig reengagement) {
        this(
                embeddingDim,
                tower,
                temperature,
                heads,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                0.0);
    }

    public static ModelConfig defaults() {
        return new ModelConfig(
                64,
                TowerConfig.defaults(),
                TemperatureConfig.defaults(),
                HeadConfig.defaults(),
                true,
                HardNegativeConfig.defaults(),
                AdvertiserLossConfig.defaults(),
                true,
                ReengagementConfig.defaults());
    }

    public ModelConfig withTower(TowerConfig t) {
        return new ModelConfig(
                embeddingDim,
                t,
                temperature,
                heads,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                pinBias);
    }

    public ModelConfig withEmbeddingDim(int e) {
        return new ModelConfig(
                e,
                tower,
                temperature,
                heads,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                pinBias);
    }

    public ModelConfig withTemperature(TemperatureConfig t) {
        return new ModelConfig(
                embeddingDim,
                tower,
                t,
                heads,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                pinBias);
    }

    public ModelConfig withHeads(HeadConfig h) {
        return new ModelConfig(
                embeddingDim,
                tower,
                temperature,
                h,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                pinBias);
    }

    public ModelConfig withLogQCorrection(boolean on) {
        return new ModelConfig(
                embeddingDim,
                tower,
                temperature,
                heads,
                on,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                pinBias);
    }

    public ModelConfig withHardNegatives(HardNegativeConfig h) {
        return new ModelConfig(
                embeddingDim,
                tower,
                temperature,
                heads,
                logQCorrection,
                h,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                pinBias);
    }

    public ModelConfig withAdvertiserLoss(AdvertiserLossConfig a) {
        return new ModelConfig(
                embeddingDim,
                tower,
                temperature,
                heads,
                logQCorrection,
                hardNegatives,
                a,
                useExampleWeights,
                reengagement,
                pinBias);
    }

    public ModelConfig withUseExampleWeights(boolean on) {
        return new ModelConfig(
                embeddingDim,
                tower,
                temperature,
                heads,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                on,
                reengagement,
                pinBias);
    }

    public ModelConfig withReengagement(ReengagementConfig r) {
        return new ModelConfig(
                embeddingDim,
                tower,
                temperature,
                heads,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                r,
                pinBias);
    }

    public ModelConfig withPinBias(double c) {
        return new ModelConfig(
                embeddingDim,
                tower,
                temperature,
                heads,
                logQCorrection,
                hardNegatives,
                advertiserLoss,
                useExampleWeights,
                reengagement,
                c);
    }

    /** How the cross network and the MLP are combined inside a tower. */
    public enum Arrangement {
        /** Cross network and MLP read the same input; outputs are concatenated, then projected. */
        PARALLEL,
        /** Cross network first, the MLP reads its output, then projection. */
        STACKED
    }

    /** How the two tasks share output heads. */
    public enum HeadMode {
        /** Shared towers, one head per task; the conversion head is served. */
        MULTI_HEAD,
        /** One head trained by both tasks, mixed by task weights; that head is served. */
        UNIFIED
    }

    /**
     * Tower layout.
     *
     * @param arrangement PARALLEL or STACKED
     * @param crossLayers number L of DCNv2 cross layers (0 disables the cross network)
     * @param crossRank rank r of {@code W = U Vᵀ}; 0 means full rank
     * @param mlpWidths hidden widths of the MLP
     */
    public record TowerConfig(Arrangement arrangement, int crossLayers, int crossRank, List<Integer> mlpWidths) {
        public TowerConfig {
            Checks.notNull("model.tower.arrangement", arrangement);
            Checks.nonNegative("model.tower.crossLayers", crossLayers);
            Checks.nonNegative("model.tower.crossRank", crossRank);
            Checks.nonEmpty("model.tower.mlpWidths", mlpWidths);
            for (Integer w : mlpWidths) {
                Checks.require(w != null && w > 0, "model.tower.mlpWidths", mlpWidths, "positive integers");
            }
            mlpWidths = List.copyOf(mlpWidths);
        }

        public static TowerConfig defaults() {
            return new TowerConfig(Arrangement.PARALLEL, 3, 0, List.of(256, 128, 64));
        }
    }

    /**
     * Learned temperature τ: logits are {@code u·p / clamp(τ, min, max)}.
     *
     * @param initial initial τ
     * @param min lower clamp
     * @param max upper clamp
     */
    public record TemperatureConfig(float initial, float min, float max) {
        public TemperatureConfig {
            Checks.positive("model.temperature.min", min);
            Checks.require(max >= min, "model.temperature.max", max, "a number >= min (" + min + ")");
            Checks.inRange("model.temperature.initial", initial, min, max);
        }

        public static TemperatureConfig defaults() {
            return new TemperatureConfig(0.05f, 0.01f, 1.0f);
        }
    }

    /**
     * Multi-task heads.
     *
     * @param mode MULTI_HEAD or UNIFIED
     * @param conversionWeight weight λ_conv of the conversion task loss
     * @param engagementWeight weight λ_eng of the engagement task loss
     */
    public record HeadConfig(HeadMode mode, float conversionWeight, float engagementWeight) {
        public HeadConfig {
            Checks.notNull("model.heads.mode", mode);
            Checks.nonNegative("model.heads.conversionWeight", conversionWeight);
            Checks.nonNegative("model.heads.engagementWeight", engagementWeight);
        }

        public static HeadConfig defaults() {
            return new HeadConfig(HeadMode.UNIFIED, 1.0f, 4.0f);
        }

        public int headCount() {
            return mode == HeadMode.MULTI_HEAD ? 2 : 1;
        }
    }

    /**
     * Hard-negative columns appended to the in-batch softmax.
     *
     * @param enabled use the batch's hard negatives
     * @param maxCount at most H columns are used (extra ones are ignored)
     */
    public record HardNegativeConfig(boolean enabled, int maxCount) {
        public HardNegativeConfig {
            Checks.nonNegative("model.hardNegatives.maxCount", maxCount);
        }

        public static HardNegativeConfig defaults() {
            return new HardNegativeConfig(true, 64);
        }
    }

    /**
     * Advertiser-level loss: an in-batch softmax in which every column whose pin belongs to the
     * row's advertiser counts as a positive (see docs/model.md for the formula).
     *
     * @param enabled on/off
     * @param weight weight λ_adv in the total loss
     */
    public record AdvertiserLossConfig(boolean enabled, float weight) {
        public AdvertiserLossConfig {
            Checks.nonNegative("model.advertiserLoss.weight", weight);
        }

        public static AdvertiserLossConfig defaults() {
            return new AdvertiserLossConfig(true, 0.1f);
        }
    }

    /**
     * Re-engagement bias: shoppers return to pins they engaged with or bought before, which a dot
     * product of two 64-wide towers scores poorly. Each listed user sequence (pin ids, most recent
     * first) adds a learned logit {@code β_s[bucket(position)]} to a pin at that position, where the
     * position buckets are {@code [0], [1, 2], [3, 6], [7, ∞)} ({@link #bucketOf}); pins in no
     * sequence get no bias. The bias is learned with the towers in the same softmax and served by
     * rescoring the user's history pins next to the embedding top-K (docs/model.md).
     *
     * @param enabled on/off
     * @param sequences user-tower ID_SEQUENCE features holding pin ids, e.g. user_engaged_pins
     */
    public record ReengagementConfig(boolean enabled, List<String> sequences) {
        /** Upper bounds (exclusive) of the position buckets 1..3; bucket 4 is everything after. */
        public static final int[] POSITION_EDGES = {1, 3, 7};
        /** Bias slots per sequence: slot 0 (not in the sequence, fixed at 0) and the buckets. */
        public static final int SLOTS = POSITION_EDGES.length + 2;

        public ReengagementConfig {
            Checks.notNull("model.reengagement.sequences", sequences);
            sequences = List.copyOf(sequences);
            Checks.require(
                    !enabled || !sequences.isEmpty(),
                    "model.reengagement.sequences",
                    sequences,
                    "at least one user sequence of pin ids when enabled");
        }

        /** On, over the user's engaged and converted pins. */
        public static ReengagementConfig defaults() {
            return new ReengagementConfig(true, List.of("user_engaged_pins", "user_converted_pins"));
        }

        public static ReengagementConfig off() {
            return new ReengagementConfig(false, List.of());
        }

        /** The bias slot (1..SLOTS-1) of a 0-based position in a sequence. */
        public static int bucketOf(int position) {
            for (int i = 0; i < POSITION_EDGES.length; i++) {
                if (position < POSITION_EDGES[i]) {
                    return i + 1;
                }
            }
            return POSITION_EDGES.length + 1;
        }

        /** Number of bias values: SLOTS per sequence when enabled, else 0. */
        public int size() {
            return enabled ? SLOTS * sequences.size() : 0;
        }
    }
}
