package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;

/** Gradient clipping to a global L2 norm, and the sum of data-parallel gradients onto the first device. */
final class Gradients {
    private Gradients() {}

    /** Scales the gradients in place to at most {@code maxNorm} (0: no clipping); returns their global norm. */
    static double clipToNorm(List<NDArray> grads, float maxNorm) {
        double sq = 0;
        for (NDArray g : grads) {
            try (NDArray n = g.norm()) {
                double v = n.getFloat();
                sq += v * v;
            }
        }
        double norm = Math.sqrt(sq);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            for (NDArray g : grads) {
                g.muli(scale);
            }
        }
        return norm;
    }

    /** Sums every device's gradients into the first device's (zeroing the others), clips, returns the norm. */
    static double sumOnFirstDeviceAndClip(ParameterStore ps, Block block, Device[] devices, float maxNorm) {
        List<NDArray> grads = new ArrayList<>();
        try {
            for (Parameter p : block.getParameters().values()) {
                if (!p.requiresGradient()) {
                    continue;
                }
                NDArray g0 = ps.getValue(p, devices[0], true).getGradient();
                grads.add(g0);
                for (int d = 1; d < devices.length; d++) {
                    try (NDArray gd = ps.getValue(p, devices[d], true).getGradient();
                            NDArray moved = gd.toDevice(devices[0], true)) {
                        g0.addi(moved);
                        gd.subi(gd);
                    }
                }
            }
            return clipToNorm(grads, maxNorm);
        } finally {
            grads.forEach(NDArray::close);
        }
    }
}
