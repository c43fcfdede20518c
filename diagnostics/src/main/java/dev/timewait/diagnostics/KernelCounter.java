package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;

/**
 * One kernel counter or gauge, as {@code /proc/net} printed it, with what it means for TIME_WAIT:
 * a row for a report. {@link KernelCounters#counters()} lists them in a fixed order.
 *
 * <pre>{@code
 * for (KernelCounter c : KernelCounters.read().counters()) {
 *   System.out.println(c.describe());   // "TcpExt.TWRecycled = 0: ..."
 * }
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param name where the value comes from, e.g. {@code TcpExt.TWRecycled} or {@code sockstat.tw}
 * @param value the value, or {@link KernelCounters#UNKNOWN} (-1) when it could not be read
 * @param explanation what it counts, in plain words
 */
public record KernelCounter(String name, long value, String explanation) {
  /**
   * Validates: no component is null.
   *
   * @param name where the value comes from, e.g. {@code TcpExt.TWRecycled} or {@code sockstat.tw}
   * @param value the value, or {@link KernelCounters#UNKNOWN} (-1) when it could not be read
   * @param explanation what it counts, in plain words
   */
  public KernelCounter {
    Preconditions.checkNotNull(name, "name");
    Preconditions.checkNotNull(explanation, "explanation");
  }

  /** {@return one line: {@code "name = value: explanation"}, with "unknown" for an unknown value} */
  public String describe() {
    return name + " = " + (value < 0 ? "unknown" : Long.toString(value)) + ": " + explanation;
  }
}
