package dev.convcg.model.train;

/**
 * Loss terms of one step or averaged over an epoch (disabled terms are 0).
 *
 * @param total weighted sum that is optimised
 * @param conversion conversion-task softmax loss L_conv
 * @param engagement engagement-task softmax loss L_eng
 * @param advertiser advertiser-level loss L_adv
 */
public record LossValues(double total, double conversion, double engagement, double advertiser) {
    public static final LossValues ZERO = new LossValues(0, 0, 0, 0);

    public LossValues plus(LossValues o, double weight) {
        return new LossValues(
                total + weight * o.total,
                conversion + weight * o.conversion,
                engagement + weight * o.engagement,
                advertiser + weight * o.advertiser);
    }

    public LossValues scaled(double f) {
        return new LossValues(total * f, conversion * f, engagement * f, advertiser * f);
    }
}
