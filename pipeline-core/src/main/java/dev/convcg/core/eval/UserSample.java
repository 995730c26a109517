package dev.convcg.core.eval;

import static org.apache.spark.sql.functions.*;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A deterministic sample of the evaluated users: the exact top-K costs users × catalog × dimension, so past
 * {@link EvaluationSettings#maxUsers()} users the evaluation keeps the users whose id hashes below
 * {@code maxUsers / users}, with all of their held-out events (recall is a mean over users or events; a uniform user
 * sample estimates both without bias). The same users are kept for every model of a run and on every rerun.
 */
public final class UserSample {
    static final long SEED = 7L;

    private UserSample() {}

    /** The sampled users' events; {@code events} itself when {@code maxUsers} is 0 or there are not more users. */
    public static Dataset<Row> of(Dataset<Row> events, int maxUsers) {
        if (maxUsers <= 0) {
            return events;
        }
        long users = events.select(TopKRetrieval.USER_ID).distinct().count();
        if (users <= maxUsers) {
            return events;
        }
        double rate = (double) maxUsers / users;
        return events.filter(uniform(col(TopKRetrieval.USER_ID)).lt(rate));
    }

    /** A uniform number in [0, 1) from the user id, the same on every machine and run. */
    static org.apache.spark.sql.Column uniform(org.apache.spark.sql.Column userId) {
        return shiftrightunsigned(xxhash64(lit(SEED), userId), 11)
                .cast("double")
                .divide((double) (1L << 53));
    }
}
