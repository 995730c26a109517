/**
 * The training objective of the two-tower model, {@link TwoTowerLoss}: a sampled softmax over in-batch positives plus
 * hard negatives, with logQ correction, accidental-hit masking, per-example weights, separate conversion and engagement
 * task terms and the advertiser-level term. It is kept apart from the blocks so the network can be used for inference
 * without the loss, and so every ablation of the objective is visible in one place. Plain DJL math, no Spark.
 */
package dev.convcg.model.loss;
