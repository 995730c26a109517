package dev.convcg.model.train;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;
import dev.convcg.model.blocks.TwoTowerBlock;
import dev.convcg.model.config.TrainerConfig;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DJL training listener for the checkpoint cadence: when a directory is configured it saves a checkpoint every
 * {@code checkpointEveryNSteps} steps and at each epoch end (the state that starts the next epoch), and says which
 * checkpoint a fit resumes from ({@code resume}: the newest, refused when its model config and feature schema hash
 * differs). The trainer's position (step, epoch, batches and loss sums so far) comes from {@code position}.
 */
final class CheckpointListener extends TrainingListenerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointListener.class);

    private final Checkpoints checkpoints;
    private final TrainerConfig config;
    private final String configHash;
    private final TwoTowerBlock block;
    private final StatefulAdam optimizer;
    private final Supplier<Checkpoints.State> position;

    CheckpointListener(
            TrainerConfig config,
            String configHash,
            TwoTowerBlock block,
            StatefulAdam optimizer,
            Supplier<Checkpoints.State> position) {
        this.checkpoints = config.checkpointDir().isEmpty()
                ? null
                : new Checkpoints(Path.of(config.checkpointDir()), config.keepCheckpoints());
        this.config = config;
        this.configHash = configHash;
        this.block = block;
        this.optimizer = optimizer;
        this.position = position;
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

    @Override
    public void onTrainingBatch(Trainer trainer, BatchData batchData) {
        if (checkpoints == null || config.checkpointEveryNSteps() <= 0) {
            return;
        }
        Checkpoints.State p = position.get();
        if (p.globalStep() % config.checkpointEveryNSteps() == 0) {
            save(p);
        }
    }

    @Override
    public void onEpoch(Trainer trainer) {
        if (checkpoints != null) {
            Checkpoints.State p = position.get();
            save(new Checkpoints.State(configHash, p.globalStep(), p.epoch() + 1, 0, LossValues.ZERO, 0));
        }
    }

    private void save(Checkpoints.State state) {
        synchronized (TwoTowerTrainer.TRAINING_LOCK) {
            Path dir = checkpoints.save(state, block, optimizer);
            LOG.info("checkpoint {} (epoch {}, {} batches into it)", dir, state.epoch(), state.batchesInEpoch());
        }
    }
}
