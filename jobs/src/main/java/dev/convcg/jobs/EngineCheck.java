package dev.convcg.jobs;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Prints which libtorch DJL loaded and which GPUs it sees, then runs a small matmul on each device: the check to run
 * on a (GPU) executor image before training there. {@code java -Dai.djl.offline=true -cp jobs-all.jar
 * dev.convcg.jobs.EngineCheck}; exit code 1 when a device fails.
 */
public final class EngineCheck {
    private EngineCheck() {}

    public static void main(String[] args) {
        Engine engine = Engine.getEngine("PyTorch");
        System.out.println("engine " + engine.getEngineName() + " " + engine.getVersion() + ", GPUs visible: "
                + engine.getGpuCount() + ", PYTORCH_LIBRARY_PATH=" + System.getenv("PYTORCH_LIBRARY_PATH"));
        int failures = 0;
        for (int i = -1; i < engine.getGpuCount(); i++) {
            Device d = i < 0 ? Device.cpu() : Device.gpu(i);
            try (NDManager m = NDManager.newBaseManager(d)) {
                NDArray a = m.ones(new Shape(256, 256));
                float v = a.matMul(a).sum().getFloat();
                System.out.println(
                        d + ": 256x256 ones matmul sum = " + v + (v == 256f * 256 * 256 ? " (ok)" : " (WRONG)"));
            } catch (RuntimeException e) {
                failures++;
                System.out.println(d + ": FAILED " + e);
            }
        }
        System.exit(failures == 0 ? 0 : 1);
    }
}
