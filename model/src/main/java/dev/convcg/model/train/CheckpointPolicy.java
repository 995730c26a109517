package dev.convcg.model.train;

import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.TrainerConfig;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a trainer checkpoints (every {@code checkpointEveryNSteps} steps and at each epoch end, when a directory is
 * configured), and which checkpoint a fit resumes from ({@code resume}: the newest, refused when its model config
 * and feature schema hash differs).
 */
final class CheckpointPolicy {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointPolicy.class);

    private final Checkpoints checkpoints;
    private final TrainerConfig config;
    private final String configHash;

    CheckpointPolicy(TrainerConfig config, String configHash) {
        this.checkpoints = config.checkpointDir().isEmpty()
                ? null
                : new Checkpoints(Path.of(config.checkpointDir()), config.keepCheckpoints());
        this.config = config;
        this.configHash = configHash;
    }

    /** The newest checkpoint to resume from, with its state, when resuming is on and one exists. */
    Optional<Resume> resumable() {
        if (checkpoints == null || !config.resume()) {
            return Optional.empty();
        }
        return checkpoints.latest().map(dir -> {
            Checkpoints.State s = Checkpoints.readState(dir);
            if (!configHash.equals(s.configHash())) {
                throw new IllegalStateException("checkpoint " + dir + " has config hash " + s.configHash()
                        + " but this trainer's model config + feature spec hash to " + configHash
                        + "; use another checkpointDir or set resume = false");
            }
            return new Resume(dir, s);
        });
    }

    record Resume(Path dir, Checkpoints.State state) {}

    /** Saves a mid-epoch checkpoint when {@code globalStep} is on the cadence. */
    void afterStep(
            TwoTowerBlock block,
            StatefulAdam optimizer,
            long globalStep,
            int epoch,
            long batchesInEpoch,
            LossValues sums,
            long examples) {
        if (checkpoints != null
                && config.checkpointEveryNSteps() > 0
                && globalStep % config.checkpointEveryNSteps() == 0) {
            save(
                    block,
                    optimizer,
                    new Checkpoints.State(configHash, globalStep, epoch, batchesInEpoch, sums, examples));
        }
    }

    /** Saves the checkpoint that starts the next epoch. */
    void afterEpoch(TwoTowerBlock block, StatefulAdam optimizer, long globalStep, int epoch) {
        if (checkpoints != null) {
            save(block, optimizer, new Checkpoints.State(configHash, globalStep, epoch + 1, 0, LossValues.ZERO, 0));
        }
    }

    private void save(TwoTowerBlock block, StatefulAdam optimizer, Checkpoints.State state) {
        synchronized (TwoTowerTrainer.TRAINING_LOCK) {
            Path dir = checkpoints.save(state, block, optimizer);
            LOG.info("checkpoint {} (epoch {}, {} batches into it)", dir, state.epoch(), state.batchesInEpoch());
        }
    }
}
