package dev.convcg.core.sim;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latent world behind the simulated logs: category centroids, advertisers with a conversion quality shared by
 * all their pins, pins with a topic vector, a "clickbait" attractiveness (raises clicks, not purchases), a price and
 * a popularity prior; users with an engagement interest vector and a distinct but correlated purchase-intent vector.
 *
 * <p>The world is a pure function of the settings. Pins are materialised once per JVM ({@link #of}); users are
 * derived on the fly from (seed, user index), so the world stays small however many users there are.
 *
 * <p>True conversion propensity of (user u, pin p): {@code sigmoid(INTENT_WEIGHT · intent_u·topic_p + conversionBias_p)},
 * with {@code conversionBias_p = BASE_LOGIT + quality_{advertiser(p)} − PRICE_WEIGHT · (log price_p − mean log price)}.
 */
public final class World {
    public static final long USER_ID_BASE = 1L;
    public static final long PIN_ID_BASE = 100_000_000L;
    public static final long ADVERTISER_ID_BASE = 10_000L;

    static final double INTENT_WEIGHT = 3.0;
    static final double BASE_LOGIT = -3.8;
    static final double PRICE_WEIGHT = 0.35;
    static final double MEAN_LOG_PRICE = 3.5;
    static final double NEW_PIN_SHARE = 0.1;
    static final double CONTENT_EMBEDDING_SHARE = 0.8;

    private static final long K_CATEGORY = 1, K_ADVERTISER = 2, K_PIN = 3, K_USER = 4;
    private static final Map<SimulationSettings, World> CACHE = new ConcurrentHashMap<>();

    final SimulationSettings settings;
    final float[][] categoryCentroid;
    final double[] categoryCumulative;
    final int[] advertiserCategory;
    final float[] advertiserQuality;
    final int[] pinCategory;
    final int[] pinAdvertiser;
    final float[][] pinTopic;
    final float[] pinClickbait;
    final float[] pinPrice;
    final int[] pinCreatedDay;
    final float[][] pinContentEmbedding;
    final float[] pinConversionBias;
    /** Pin indices grouped by category: pins of category k are byCategory[catStart[k] .. catStart[k+1]). */
    final int[] byCategory;

    final int[] catStart;
    /** Cumulative serving weight (popularity × clickbait boost) over byCategory order. */
    final double[] servingCumulative;
    /** Serving weight of each pin, the policy's preference among the pins it may show. */
    final double[] pinServingWeight;

    /** The world of these settings, built once per JVM. */
    public static World of(SimulationSettings s) {
        return CACHE.computeIfAbsent(s, World::new);
    }

    private World(SimulationSettings s) {
        this.settings = s;
        int c = s.categories(), d = s.topicDim();
        categoryCentroid = new float[c][];
        categoryCumulative = new double[c];
        double acc = 0;
        for (int k = 0; k < c; k++) {
            SplittableRandom r = Rng.stream(s.seed(), K_CATEGORY, k);
            categoryCentroid[k] = Rng.gaussianUnit(r, d);
            acc += 1.0 / Math.pow(k + 1, 0.8);
            categoryCumulative[k] = acc;
        }
        advertiserCategory = new int[s.advertisers()];
        advertiserQuality = new float[s.advertisers()];
        for (int a = 0; a < s.advertisers(); a++) {
            SplittableRandom r = Rng.stream(s.seed(), K_ADVERTISER, a);
            advertiserCategory[a] = Rng.sampleCumulative(categoryCumulative, 0, c, r.nextDouble());
            advertiserQuality[a] = (float) (s.behaviour().advertiserQualitySd() * r.nextGaussian());
        }
        int n = s.pins();
        pinCategory = new int[n];
        pinAdvertiser = new int[n];
        pinTopic = new float[n][];
        pinClickbait = new float[n];
        pinPrice = new float[n];
        pinCreatedDay = new int[n];
        pinContentEmbedding = new float[n][];
        pinConversionBias = new float[n];
        float[] popularity = new float[n];
        int[] perCategory = new int[c + 1];
        for (int p = 0; p < n; p++) {
            SplittableRandom r = Rng.stream(s.seed(), K_PIN, p);
            int adv = p < s.advertisers() ? p : r.nextInt(s.advertisers());
            int cat = r.nextDouble() < 0.85 ? advertiserCategory[adv] : r.nextInt(c);
            pinAdvertiser[p] = adv;
            pinCategory[p] = cat;
            float[] topic = new float[d];
            for (int i = 0; i < d; i++) {
                topic[i] = (float) (categoryCentroid[cat][i] + 0.45 * r.nextGaussian() / Math.sqrt(d));
            }
            pinTopic[p] = Rng.normalise(topic);
            pinClickbait[p] = (float) Math.pow(r.nextDouble(), 3);
            double logPrice = MEAN_LOG_PRICE + 0.4 * (cat % 5 - 2) + 0.6 * r.nextGaussian();
            pinPrice[p] = (float) Math.round(Math.exp(logPrice) * 100) / 100f;
            pinCreatedDay[p] = r.nextDouble() < NEW_PIN_SHARE ? r.nextInt(s.days()) : -1 - r.nextInt(365);
            if (r.nextDouble() < CONTENT_EMBEDDING_SHARE) {
                float[] e = new float[d];
                for (int i = 0; i < d; i++) {
                    e[i] = (float) (pinTopic[p][i] + 0.35 * r.nextGaussian() / Math.sqrt(d));
                }
                pinContentEmbedding[p] = Rng.normalise(e);
            }
            popularity[p] = (float) Math.exp(1.0 * r.nextGaussian());
            pinConversionBias[p] = (float) (BASE_LOGIT
                    + s.behaviour().conversionLogitShift()
                    + advertiserQuality[adv]
                    - PRICE_WEIGHT * (Math.log(pinPrice[p]) - MEAN_LOG_PRICE));
            perCategory[cat + 1]++;
        }
        catStart = new int[c + 1];
        for (int k = 0; k < c; k++) {
            catStart[k + 1] = catStart[k] + perCategory[k + 1];
        }
        byCategory = new int[n];
        int[] fill = catStart.clone();
        for (int p = 0; p < n; p++) {
            byCategory[fill[pinCategory[p]]++] = p;
        }
        servingCumulative = new double[n];
        pinServingWeight = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            int p = byCategory[i];
            pinServingWeight[p] = popularity[p] * Math.exp(2.0 * pinClickbait[p]);
            sum += pinServingWeight[p];
            servingCumulative[i] = sum;
        }
    }

    /** Latent vectors of one user, derived from (seed, user index). */
    UserLatent user(int u) {
        SplittableRandom r = Rng.stream(settings.seed(), K_USER, u);
        int d = settings.topicDim(), c = settings.categories();
        float[] interest = new float[d];
        for (int j = 0; j < 2; j++) {
            float[] centroid = categoryCentroid[Rng.sampleCumulative(categoryCumulative, 0, c, r.nextDouble())];
            for (int i = 0; i < d; i++) {
                interest[i] += centroid[i];
            }
        }
        for (int i = 0; i < d; i++) {
            interest[i] += (float) (0.5 * r.nextGaussian() / Math.sqrt(d));
        }
        Rng.normalise(interest);
        float[] other = categoryCentroid[Rng.sampleCumulative(categoryCumulative, 0, c, r.nextDouble())];
        double rho = settings.intentCorrelation();
        float[] intent = new float[d];
        for (int i = 0; i < d; i++) {
            intent[i] = (float) (rho * interest[i]
                    + Math.sqrt(1 - rho * rho) * (0.8 * other[i] + 0.6 * r.nextGaussian() / Math.sqrt(d)));
        }
        Rng.normalise(intent);
        double activity = Math.exp(0.6 * r.nextGaussian() - 0.18);
        String country = COUNTRIES[Math.min(COUNTRIES.length - 1, (int) (-Math.log(r.nextDouble()) * 1.5))];
        int signupDaysBefore = 1 + r.nextInt(1500);
        return new UserLatent(u, interest, intent, activity, country, signupDaysBefore, r.nextLong());
    }

    /** True conversion-propensity logit of (user intent, pin). */
    double conversionLogit(float[] intent, int pin) {
        return INTENT_WEIGHT * Rng.dot(intent, pinTopic[pin]) + pinConversionBias[pin];
    }

    static final String[] COUNTRIES = {"US", "GB", "DE", "FR", "CA", "BR", "JP"};

    static String categoryName(int k) {
        return String.format("cat_%03d", k);
    }

    record UserLatent(
            int index,
            float[] interest,
            float[] intent,
            double activity,
            String country,
            int signupDaysBefore,
            long eventSeed) {}
}
