package dev.convcg.model.blocks;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dev.convcg.model.config.Checks;
import dev.convcg.model.config.ModelConfig;
import dev.convcg.model.features.FeatureKind;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureSpec;
import dev.convcg.model.features.FeatureTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The whole model: shared embedding tables, a user/context {@link Tower}, a pin {@link Tower},
 * per-task heads and the learned temperature.
 *
 * <p>{@code u_k = normalize(H^u_k h_u)}, {@code p_k = normalize(H^p_k h_p)} where {@code H_k} is a
 * linear (E, E) head (with a pin bias, u_k's last coordinate is a constant, {@link #encodeUsers}); k = 0 is the conversion head (served) and, in MULTI_HEAD mode only, k = 1 is
 * the engagement head. {@code τ = clamp(t, τ_min, τ_max)} with t a learned scalar.
 *
 * <p>forward input: the user tower tensors followed by the pin tower tensors (see {@link
 * FeatureTensors}); the two batches may have different row counts (B user rows, B + H pins).
 * forward output: {@code [u_0, p_0, (u_1, p_1,) s]} with u (B, E), p (B+H, E) and the scalars
 * {@code s = [τ, β...]}: τ, then the re-engagement biases when they are on (see {@link
 * ModelConfig.ReengagementConfig}; slot 0 of each sequence is held at 0).
 */
public final class TwoTowerBlock extends AbstractBlock {
    private static final byte VERSION = 1;

    private final ModelConfig config;
    private final FeatureSchema schema;
    private final EmbeddingTables tables;
    private final Tower user;
    private final Tower pin;
    private final List<Linear> userHeads = new ArrayList<>();
    private final List<Linear> pinHeads = new ArrayList<>();
    private final Parameter temperature;
    private final Parameter reengagement;

    public TwoTowerBlock(ModelConfig config, FeatureSchema schema) {
        super(VERSION);
        this.config = config;
        this.schema = schema;
        temperature = addParameter(Parameter.builder()
                .setName("temperature")
                .setType(Parameter.Type.OTHER)
                .optShape(new Shape(1))
                .optInitializer(new ConstantInitializer(config.temperature().initial()))
                .build());
        reengagement = config.reengagement().enabled()
                ? addParameter(Parameter.builder()
                        .setName("reengagement")
                        .setType(Parameter.Type.OTHER)
                        .optShape(new Shape(config.reengagement().size()))
                        .optInitializer(new ConstantInitializer(0f))
                        .build())
                : null;
        for (String name : config.reengagement().sequences()) {
            boolean pinSequence =
                    schema.user().stream().anyMatch(f -> f.name().equals(name) && f.kind() == FeatureKind.ID_SEQUENCE);
            Checks.require(
                    pinSequence, "model.reengagement.sequences", name, "a user-tower ID_SEQUENCE feature of pin ids");
        }
        tables = addChildBlock("tables", new EmbeddingTables(schema.tables()));
        user = addChildBlock("user", tower(config, schema.user()));
        pin = addChildBlock("pin", tower(config, schema.pin()));
        int e = config.embeddingDim();
        for (int k = 0; k < config.heads().headCount(); k++) {
            userHeads.add(
                    addChildBlock("user_head" + k, Linear.builder().setUnits(e).build()));
            pinHeads.add(
                    addChildBlock("pin_head" + k, Linear.builder().setUnits(e).build()));
        }
    }

    private Tower tower(ModelConfig c, List<FeatureSpec> specs) {
        return Tower.builder()
                .setFeatures(FeatureEmbeddingBlock.builder()
                        .setSpecs(specs)
                        .setTables(tables)
                        .build())
                .setArrangement(c.tower().arrangement())
                .setCrossLayers(c.tower().crossLayers())
                .optCrossRank(c.tower().crossRank())
                .setMlpWidths(c.tower().mlpWidths())
                .setOutputDim(c.embeddingDim())
                .build();
    }

    public ModelConfig config() {
        return config;
    }

    public FeatureSchema schema() {
        return schema;
    }

    public Tower userTower() {
        return user;
    }

    public Tower pinTower() {
        return pin;
    }

    public int headCount() {
        return userHeads.size();
    }

    /** The shared embedding tables. */
    public EmbeddingTables tables() {
        return tables;
    }

    /** Initialises every parameter (tables first) with shapes derived from the config. */
    public void initialize(NDManager manager) {
        initialize(manager, DataType.FLOAT32, inputShapes(schema, 1));
    }

    /** Shapes of the forward input for B user rows and B pins. */
    public static Shape[] inputShapes(FeatureSchema schema, long rows) {
        List<Shape> shapes = new ArrayList<>();
        for (List<FeatureSpec> tower : List.of(schema.user(), schema.pin())) {
            for (FeatureSpec s : tower) {
                switch (s.kind()) {
                    case ID -> shapes.add(new Shape(rows));
                    case ID_SEQUENCE -> {
                        shapes.add(new Shape(rows, s.maxLength()));
                        shapes.add(new Shape(rows, s.maxLength()));
                    }
                    case NUMERIC -> shapes.add(new Shape(rows, 1));
                    case VECTOR -> {
                        shapes.add(new Shape(rows, s.dim()));
                        shapes.add(new Shape(rows, 1));
                    }
                }
            }
        }
        return shapes.toArray(new Shape[0]);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        int split = FeatureTensors.arity(schema.user());
        NDList u = encodeUsers(ps, inputs.subNDList(0, split), training);
        NDList p = encodePins(ps, inputs.subNDList(split), training);
        NDList out = new NDList(2 * u.size() + 1);
        for (int k = 0; k < u.size(); k++) {
            out.add(u.get(k));
            out.add(p.get(k));
        }
        NDArray scalars = temperature(ps, u.head().getDevice(), training);
        if (reengagement != null) {
            scalars = scalars.concat(reengagementBias(ps, u.head().getManager(), training));
        }
        scalars.attach(u.head().getManager());
        out.add(scalars);
        return out;
    }

    /**
     * The re-engagement biases in score units ({@code ReengagementConfig.size()} values), each
     * sequence's slot 0 (pin not in the sequence) held at 0; the mask lives on {@code manager}.
     */
    public NDArray reengagementBias(ParameterStore ps, NDManager manager, boolean training) {
        Checks.require(
                reengagement != null, "model.reengagement.enabled", false, "true to read the re-engagement biases");
        NDArray beta = ps.getValue(reengagement, manager.getDevice(), training);
        NDArray mask = manager.ones(beta.getShape(), beta.getDataType(), manager.getDevice());
        mask.set(new NDIndex("::" + ModelConfig.ReengagementConfig.SLOTS), 0f);
        return beta.mul(mask);
    }

    /**
     * L2-normalised user embeddings, one (B, E) array per head (head 0 = served). With a pin bias c
     * ({@link ModelConfig#pinBias}) the last coordinate is c and the others are the normalised rest
     * scaled by {@code sqrt(1 - c²)}, so every user weighs the pin's last coordinate alike.
     */
    public NDList encodeUsers(ParameterStore ps, NDList userInputs, boolean training) {
        NDList out = heads(ps, userHeads, user.forward(ps, userInputs, training).head(), training);
        double c = config.pinBias();
        if (c == 0) {
            return out;
        }
        NDList biased = new NDList(out.size());
        for (NDArray u : out) {
            NDArray direction = u.get(":, :-1").normalize(2, 1, 1e-12).mul((float) Math.sqrt(1 - c * c));
            biased.add(direction.concat(u.get(":, -1:").zerosLike().add((float) c), 1));
        }
        return biased;
    }

    /** L2-normalised pin embeddings, one (B, E) array per head (head 0 = served). */
    public NDList encodePins(ParameterStore ps, NDList pinInputs, boolean training) {
        return heads(ps, pinHeads, pin.forward(ps, pinInputs, training).head(), training);
    }

    private static NDList heads(ParameterStore ps, List<Linear> heads, NDArray h, boolean training) {
        NDList out = new NDList(heads.size());
        for (Linear head : heads) {
            out.add(head.forward(ps, new NDList(h), training).head().normalize(2, 1, 1e-12));
        }
        return out;
    }

    /** The clamped temperature τ, shape (1), attached to the parameter's manager. */
    public NDArray temperature(ParameterStore ps, Device device, boolean training) {
        return ps.getValue(temperature, device, training)
                .clip(config.temperature().min(), config.temperature().max());
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {
        int split = FeatureTensors.arity(schema.user());
        tables.initialize(manager, dataType, new Shape(1));
        Shape[] userShapes = Arrays.copyOfRange(shapes, 0, split);
        Shape[] pinShapes = Arrays.copyOfRange(shapes, split, shapes.length);
        user.initialize(manager, dataType, userShapes);
        pin.initialize(manager, dataType, pinShapes);
        Shape e = new Shape(1, config.embeddingDim());
        for (int k = 0; k < userHeads.size(); k++) {
            userHeads.get(k).initialize(manager, dataType, e);
            pinHeads.get(k).initialize(manager, dataType, e);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        int split = FeatureTensors.arity(schema.user());
        Shape u = new Shape(inputShapes[0].get(0), config.embeddingDim());
        Shape p = new Shape(inputShapes[split].get(0), config.embeddingDim());
        Shape[] out = new Shape[2 * headCount() + 1];
        for (int k = 0; k < headCount(); k++) {
            out[2 * k] = u;
            out[2 * k + 1] = p;
        }
        out[out.length - 1] = new Shape(1 + config.reengagement().size());
        return out;
    }
}
