package dev.timewait.benchmarks;

import java.util.Arrays;
import java.util.Locale;

/** Median and spread of a few numbers. Stateless. */
final class Stats {
  private Stats() {}

  /**
   * Median, min, max, p25 and p75 of {@code values} (not modified), and a confidence interval of
   * at least 95% for the median that assumes nothing of the distribution but independent values:
   * the order statistics {@code k} and {@code n - k + 1} with {@code k} the largest such that
   * {@code P(Binomial(n, 1/2) <= k - 1) <= 0.025} (the sign test's interval, exact; for 36 values
   * the 12th and 25th, as the normal approximation gives, for 10 the 2nd and 9th), or min and max
   * when {@code n} is too small for that (5 or fewer).
   */
  record Spread(double median, double min, double max, double p25, double p75, double ciLow, double ciHigh) {
    static Spread of(double[] values) {
      double[] v = values.clone();
      Arrays.sort(v);
      int n = v.length;
      if (n == 0) {
        return new Spread(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
      }
      int k = signTestRank(n);
      double low = k >= 1 ? v[k - 1] : v[0];
      double high = k >= 1 ? v[n - k] : v[n - 1];
      return new Spread(quantile(v, 0.5), v[0], v[n - 1], quantile(v, 0.25), quantile(v, 0.75), low, high);
    }

    /** "0.97-1.01": the median's 95% confidence interval. */
    String ci() {
      return String.format(Locale.ROOT, "%.2f-%.2f", ciLow, ciHigh);
    }

    /** "0.98 (0.95, 1.01)": median (min, max). */
    String format() {
      return String.format(Locale.ROOT, "%.2f (%.2f, %.2f)", median, min, max);
    }
  }

  /**
   * The largest {@code k} with {@code P(Binomial(n, 1/2) <= k - 1) <= 0.025}, 0 if none: summed
   * in logarithms, so that {@code 0.5^n} does not underflow for large {@code n}.
   */
  static int signTestRank(int n) {
    double logPmf = n * Math.log(0.5); // P(B = 0)
    double cdf = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
      double pmf = Math.exp(logPmf);
      if (cdf + pmf > 0.025) {
        break;
      }
      cdf += pmf;
      k = i + 1;
      logPmf += Math.log((n - i) / (double) (i + 1));
    }
    return k;
  }

  /** Linear-interpolated quantile of sorted values. */
  static double quantile(double[] sorted, double q) {
    if (sorted.length == 1) {
      return sorted[0];
    }
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  /** The {@code q} quantile (nearest rank) of the first {@code n} sorted longs. */
  static long rank(long[] sorted, int n, double q) {
    if (n == 0) {
      return 0;
    }
    int i = (int) Math.ceil(q * n) - 1;
    return sorted[Math.max(0, Math.min(n - 1, i))];
  }
}
