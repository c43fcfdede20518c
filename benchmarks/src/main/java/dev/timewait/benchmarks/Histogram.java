package dev.timewait.benchmarks;

/**
 * Latencies of many legs pooled together, in buckets of 100 ns up to 50 ms (slower ones count in
 * the last bucket), so that a quantile over all of a side's measured legs needs no list of every
 * latency. Not thread-safe: the runner records after a leg's threads have finished.
 */
final class Histogram {
  private static final long BUCKET_NANOS = 100;
  private static final int BUCKETS = 500_000; // 50 ms

  private final long[] counts = new long[BUCKETS];
  private long total;

  void record(long nanos) {
    int bucket = (int) Math.min(BUCKETS - 1, Math.max(0, nanos / BUCKET_NANOS));
    counts[bucket]++;
    total++;
  }

  /** Adds every count of {@code other} to this one. */
  void add(Histogram other) {
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
  }

  /** The non-empty buckets as {@code index:count,...} (empty: {@code -}), for a forked run's report. */
  String encode() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < BUCKETS; i++) {
      if (counts[i] != 0) {
        sb.append(sb.length() == 0 ? "" : ",").append(i).append(':').append(counts[i]);
      }
    }
    return sb.length() == 0 ? "-" : sb.toString();
  }

  /** The histogram that {@link #encode()} wrote. */
  static Histogram decode(String text) {
    Histogram h = new Histogram();
    if (!text.equals("-")) {
      for (String part : text.split(",")) {
        int colon = part.indexOf(':');
        int bucket = Integer.parseInt(part.substring(0, colon));
        long count = Long.parseLong(part.substring(colon + 1));
        h.counts[bucket] += count;
        h.total += count;
      }
    }
    return h;
  }

  /** The {@code q} quantile (nearest rank) in milliseconds, at the top of its 100 ns bucket; NaN if empty. */
  double quantileMillis(double q) {
    if (total == 0) {
      return Double.NaN;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return (i + 1) * BUCKET_NANOS / 1e6;
      }
    }
    return BUCKETS * BUCKET_NANOS / 1e6;
  }
}
