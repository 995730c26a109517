package dev.convcg.model.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.convcg.model.config.TrainerConfig;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Resolves {@link TrainerConfig#devices()} against the GPUs libtorch can see. */
public final class Devices {
    private static final Logger LOG = LoggerFactory.getLogger(Devices.class);

    /** The count this JVM last set; −1 before the first. */
    private static volatile int intraOpThreads = -1;

    private Devices() {}

    /**
     * Sets libtorch's intra-op thread count for this JVM, loading the PyTorch engine first (the native call is not
     * linked before the engine has loaded its library).
     */
    public static void setIntraOpThreads(int threads) {
        Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(threads);
        intraOpThreads = threads;
    }

    /**
     * {@link #setIntraOpThreads} unless this JVM already runs with that count: for per-task code (batch inference,
     * scoring) that must not pay the native call on every task.
     */
    public static void ensureIntraOpThreads(int threads) {
        if (intraOpThreads != threads) {
            synchronized (Devices.class) {
                if (intraOpThreads != threads) {
                    setIntraOpThreads(threads);
                }
            }
        }
    }

    /**
     * The devices training runs on.
     *
     * @throws IllegalStateException when a GPU is requested that does not exist and {@code fallbackToCpu} is false
     */
    public static Device[] resolve(TrainerConfig config) {
        return resolve(
                config.devices(), config.fallbackToCpu(), Engine.getInstance().getGpuCount());
    }

    static Device[] resolve(String spec, boolean fallbackToCpu, int gpuCount) {
        List<Integer> ids = TrainerConfig.parseDevices(spec);
        if (ids.size() == 1 && ids.get(0) < 0) {
            return new Device[] {Device.cpu()};
        }
        int max = ids.stream().mapToInt(Integer::intValue).max().orElse(0);
        if (max >= gpuCount) {
            String msg = "trainer.devices = \"" + spec + "\" asks for GPU " + max + " but libtorch"
                    + " sees " + gpuCount + " GPU(s) (the CPU-only native library sees none);"
                    + " use \"cpu\", install a CUDA libtorch, or set trainer.fallbackToCpu = true";
            if (!fallbackToCpu) {
                throw new IllegalStateException(msg);
            }
            LOG.warn("{}; falling back to cpu", msg);
            return new Device[] {Device.cpu()};
        }
        return ids.stream().map(Device::gpu).toArray(Device[]::new);
    }
}
