package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.features.FeatureBatch;
import dev.convcg.model.features.FeatureSchema;
import dev.convcg.model.features.FeatureTensors;
import java.util.ArrayList;
import java.util.List;

/**
 * The forward pass over one or several devices: with several, the batch's user rows and pin columns are split, each
 * device encodes its shard, and every output is gathered on the first device (the temperature averaged), so the
 * in-batch softmax spans the whole batch.
 */
final class DataParallelForward {
    private DataParallelForward() {}

    static NDList forward(
            TwoTowerBlock block,
            FeatureSchema schema,
            Device[] devices,
            ParameterStore ps,
            NDManager sm,
            FeatureBatch users,
            FeatureBatch pins,
            boolean training) {
        if (devices.length == 1) {
            NDList in = FeatureTensors.tensorize(sm, schema.user(), users);
            in.addAll(FeatureTensors.tensorize(sm, schema.pin(), pins));
            return block.forward(ps, in, training);
        }
        int n = devices.length;
        int b = users.rows();
        int c = pins.rows();
        if (b < n) {
            throw new IllegalArgumentException(
                    "batch rows = " + b + " is invalid with " + n + " devices; allowed: at least one row per device");
        }
        List<NDList> shards = new ArrayList<>(n);
        for (int d = 0; d < n; d++) {
            NDManager dm = sm.newSubManager(devices[d]);
            NDList in = FeatureTensors.tensorize(dm, schema.user(), users.slice(d * b / n, (d + 1) * b / n));
            in.addAll(FeatureTensors.tensorize(dm, schema.pin(), pins.slice(d * c / n, (d + 1) * c / n)));
            shards.add(block.forward(ps, in, training));
        }
        int outputs = shards.get(0).size();
        NDList gathered = new NDList(outputs);
        for (int k = 0; k < outputs - 1; k++) {
            NDList parts = new NDList(n);
            for (NDList shard : shards) {
                parts.add(shard.get(k).toDevice(devices[0], false));
            }
            gathered.add(NDArrays.concat(parts, 0));
        }
        NDList taus = new NDList(n);
        for (NDList shard : shards) {
            taus.add(shard.get(outputs - 1).toDevice(devices[0], false));
        }
        gathered.add(NDArrays.stack(taus).mean(new int[] {0}));
        return gathered;
    }
}
