package dev.timewait.benchmarks;

import java.util.Arrays;

/** Median and spread of a few numbers. Stateless. */
final class Stats {
  private Stats() {}

  /** Median, min, max, p25 and p75 of {@code values} (not modified). */
  record Spread(double median, double min, double max, double p25, double p75) {
    static Spread of(double[] values) {
      double[] v = values.clone();
      Arrays.sort(v);
      if (v.length == 0) {
        return new Spread(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
      }
      return new Spread(quantile(v, 0.5), v[0], v[v.length - 1], quantile(v, 0.25), quantile(v, 0.75));
    }

    /** "0.98 (0.95, 1.01)": median (min, max). */
    String format() {
      return String.format("%.2f (%.2f, %.2f)", median, min, max);
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
