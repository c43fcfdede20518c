package dev.timewait.examples;

import java.util.Arrays;

/**
 * Per-request latencies in a preallocated array, bounded by the number of requests, and their
 * percentiles (nearest rank).
 *
 * <p>Thread-safe for {@link #record}: each caller writes its own slot, given by a unique ticket.
 * Read the percentiles only after every recorder has finished (a happens-before edge, such as
 * joining the recording threads).
 */
final class Latencies {
  private final long[] nanos;

  Latencies(int capacity) {
    this.nanos = new long[capacity];
  }

  /** Records the latency of the request with ticket {@code slot}. */
  void record(int slot, long latencyNanos) {
    nanos[slot] = latencyNanos;
  }

  /**
   * The {@code percentile} (0 < p <= 100) of the first {@code count} slots, in milliseconds, or
   * null if {@code count} is 0.
   */
  Double percentileMs(int count, double percentile) {
    if (count == 0) {
      return null;
    }
    long[] sorted = Arrays.copyOf(nanos, count);
    Arrays.sort(sorted);
    return percentileMs(sorted, percentile);
  }

  /**
   * The {@code percentile} of slots {@code [from, to)} in milliseconds, read while recorders may
   * still run (the load report's per-second p99): a slot handed out but not yet written reads 0
   * and is left out, and a plain read may miss a write that just happened, so a request that ended
   * as the window closed can fall out of it. Null when no slot in the window holds a latency.
   */
  Double windowPercentileMs(int from, int to, double percentile) {
    if (from < 0 || to > nanos.length || from > to) {
      throw new IllegalArgumentException("window must be 0 <= from <= to <= " + nanos.length + ", but was "
          + from + "-" + to);
    }
    long[] window = new long[to - from];
    int n = 0;
    for (int i = from; i < to; i++) {
      long v = nanos[i];
      if (v > 0) {
        window[n++] = v;
      }
    }
    if (n == 0) {
      return null;
    }
    long[] sorted = Arrays.copyOf(window, n);
    Arrays.sort(sorted);
    return percentileMs(sorted, percentile);
  }

  /** The {@code percentile} of already sorted {@code sorted}, in milliseconds (nearest rank). */
  static double percentileMs(long[] sorted, double percentile) {
    if (!(percentile > 0 && percentile <= 100)) {
      throw new IllegalArgumentException("percentile must be in (0, 100], but was " + percentile);
    }
    int rank = (int) Math.ceil(percentile / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)] / 1_000_000.0;
  }
}
