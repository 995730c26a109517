package dev.convcg.model.artifact;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.calibration.ReengagementCalibration;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureTensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Inference API: loads a {@link ModelArtifact} once and turns user or pin feature batches into the
 * served embeddings (head 0: the conversion head in MULTI_HEAD mode, the single head in UNIFIED
 * mode), L2-normalised, so a retrieval score is the plain dot product {@link #score}. The learned
 * temperature only rescales scores and does not change rankings.
 *
 * <p>Thread-safe: each call works in its own NDManager, parameters are read-only and carry no
 * gradient. In Spark, call {@link #shared(Path)} inside {@code mapPartitions} so each executor JVM
 * loads an artifact once. The parameters and each batch's tensors live on the encoder's {@link
 * Device} (CPU by default; a GPU with {@link #shared(Path, Device)}); results are copied back to
 * the host.
 */
public final class TwoTowerEncoder implements AutoCloseable {
    private static final Map<String, TwoTowerEncoder> SHARED = new ConcurrentHashMap<>();

    private final ModelArtifact artifact;
    private final NDManager manager;
    private final TwoTowerBlock block;
    private final ParameterStore store;
    private final float temperature;
    private final float[] learnedReengagementBias;
    private final float[] reengagementBias;
    private final Device device;

    private TwoTowerEncoder(Path dir, Device device) {
        this.device = device;
        artifact = ModelArtifact.read(dir);
        manager = NDManager.newBaseManager(device);
        block = artifact.loadBlock(dir, manager);
        store = new ParameterStore(manager, false);
        try (NDArray t = block.temperature(store, device, false)) {
            temperature = t.toFloatArray()[0];
        }
        if (artifact.model().reengagement().enabled()) {
            try (NDManager m = manager.newSubManager()) {
                learnedReengagementBias =
                        block.reengagementBias(store, m, false).toFloatArray();
            }
            reengagementBias = ReengagementCalibration.read(dir)
                    .map(ReengagementCalibration.Result::bias)
                    .orElse(learnedReengagementBias);
        } else {
            learnedReengagementBias = new float[0];
            reengagementBias = learnedReengagementBias;
        }
    }

    /** A new CPU encoder the caller closes. */
    public static TwoTowerEncoder load(Path artifactDir) {
        return load(artifactDir, Device.cpu());
    }

    /** A new encoder on {@code device} the caller closes. */
    public static TwoTowerEncoder load(Path artifactDir, Device device) {
        return new TwoTowerEncoder(artifactDir, device);
    }

    /** One CPU encoder per artifact directory per JVM, never closed (lives as long as the JVM). */
    public static TwoTowerEncoder shared(Path artifactDir) {
        return shared(artifactDir, Device.cpu());
    }

    /** One encoder per artifact directory and device per JVM, never closed. */
    public static TwoTowerEncoder shared(Path artifactDir, Device device) {
        Path dir = artifactDir.toAbsolutePath().normalize();
        return SHARED.computeIfAbsent(dir + "@" + device, k -> new TwoTowerEncoder(dir, device));
    }

    /** Where the parameters live and batches are computed. */
    public Device device() {
        return device;
    }

    public ModelArtifact artifact() {
        return artifact;
    }

    public String versionId() {
        return artifact.versionId();
    }

    public int dim() {
        return artifact.model().embeddingDim();
    }

    /** Clamped learned temperature τ (training logits are u·p/τ). */
    public float temperature() {
        return temperature;
    }

    /**
     * The served re-engagement biases in score (cosine) units, {@code ReengagementConfig.SLOTS} per
     * sequence of {@code artifact().model().reengagement().sequences()}; empty when off. A history
     * pin's serving score is {@code u·p + Σ_s bias[s·SLOTS + bucketOf(position)]}. These are the
     * biases refitted on the full catalog after training ({@link ReengagementCalibration}) when the
     * artifact holds them, else the ones training learned.
     */
    public float[] reengagementBias() {
        return reengagementBias.clone();
    }

    /** The re-engagement biases as training learned them (before any refit); empty when off. */
    public float[] learnedReengagementBias() {
        return learnedReengagementBias.clone();
    }

    /** Served user embeddings, row-major {@code float[B * dim]}. */
    public float[] encodeUsersFlat(FeatureBatch users) {
        return encode(true, users, 0);
    }

    /** Served pin embeddings, row-major {@code float[B * dim]}. */
    public float[] encodePinsFlat(FeatureBatch pins) {
        return encode(false, pins, 0);
    }

    public float[][] encodeUsers(FeatureBatch users) {
        return rows(encodeUsersFlat(users));
    }

    public float[][] encodePins(FeatureBatch pins) {
        return rows(encodePinsFlat(pins));
    }

    /**
     * Embeddings of a given head (0 = served; 1 = engagement head, MULTI_HEAD only), for analysis.
     */
    public float[] encodeFlat(boolean userTower, FeatureBatch batch, int head) {
        if (head < 0 || head >= block.headCount()) {
            throw new IllegalArgumentException(
                    "head = " + head + " is invalid; allowed: 0.." + (block.headCount() - 1));
        }
        return encode(userTower, batch, head);
    }

    /** Dot product, the retrieval score of L2-normalised embeddings. */
    public static float score(float[] user, float[] pin) {
        float s = 0;
        for (int i = 0; i < user.length; i++) {
            s += user[i] * pin[i];
        }
        return s;
    }

    private float[] encode(boolean userTower, FeatureBatch batch, int head) {
        if (batch.rows() == 0) {
            return new float[0];
        }
        try (NDManager sm = manager.newSubManager()) {
            NDList in = FeatureTensors.tensorize(
                    sm,
                    userTower ? artifact.features().user() : artifact.features().pin(),
                    batch);
            NDList out = userTower ? block.encodeUsers(store, in, false) : block.encodePins(store, in, false);
            return out.get(head).toFloatArray();
        }
    }

    private float[][] rows(float[] flat) {
        int d = dim();
        float[][] out = new float[flat.length / d][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        }
        return out;
    }

    @Override
    public void close() {
        SHARED.values().remove(this);
        manager.close();
    }
}
