package dev.timewait.benchmarks;

import java.util.Arrays;
import java.util.Locale;

/** Median and spread of a few numbers. Stateless. */
final class Stats {
  private Stats() {}

  /**
   * Median, min, max, p25 and p75 of {@code values} (not modified), and a 95% confidence interval
   * of the median that assumes nothing of the distribution: the order statistics {@code k} and
   * {@code n - k + 1} with {@code k = floor((n - 1.96 sqrt(n)) / 2)} (the sign test's interval, by
   * the normal approximation), or min and max when {@code n} is too small for that.
   */
  record Spread(double median, double min, double max, double p25, double p75, double ciLow, double ciHigh) {
    static Spread of(double[] values) {
      double[] v = values.clone();
      Arrays.sort(v);
      int n = v.length;
      if (n == 0) {
        return new Spread(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
      }
      int k = (int) Math.floor((n - 1.96 * Math.sqrt(n)) / 2);
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
