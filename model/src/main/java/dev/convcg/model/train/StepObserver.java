package dev.convcg.model.train;

/** Receives the loss of every optimizer step (after the update), e.g. for metric export. */
@FunctionalInterface
public interface StepObserver {
    /**
     * @param globalStep 1-based number of optimizer steps done so far, across resumes
     * @param epoch 0-based epoch
     * @param loss loss terms of the batch just trained (before its update)
     */
    void onStep(long globalStep, int epoch, LossValues loss);
}
