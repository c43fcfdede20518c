package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;

/**
 * One kernel setting as read from {@code /proc/sys}, with what its value means for TIME_WAIT: a
 * row for a report. {@link KernelSettings#settings()} lists them in a fixed order.
 *
 * <pre>{@code
 * for (KernelSetting s : KernelSettings.read().settings()) {
 *   System.out.println(s.describe());   // "net.ipv4.tcp_tw_reuse = 2: loopback only ..."
 * }
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param name the sysctl's name, e.g. {@code net.ipv4.tcp_tw_reuse}
 * @param present whether the file exists and could be read
 * @param value the value as the kernel printed it, trimmed, with runs of white space made one
 *     space; empty when not present
 * @param explanation what the value (or the file's absence) means, in plain words
 */
public record KernelSetting(String name, boolean present, String value, String explanation) {
  /**
   * Validates: no component is null.
   *
   * @param name the sysctl's name, e.g. {@code net.ipv4.tcp_tw_reuse}
   * @param present whether the file exists and could be read
   * @param value the value as the kernel printed it, trimmed, with runs of white space made one
   *     space; empty when not present
   * @param explanation what the value (or the file's absence) means, in plain words
   */
  public KernelSetting {
    Preconditions.checkNotNull(name, "name");
    Preconditions.checkNotNull(value, "value");
    Preconditions.checkNotNull(explanation, "explanation");
  }

  /**
   * One line: {@code "name = value: explanation"}, with {@code (empty)} for an empty value, or
   * {@code "name (absent): explanation"}.
   *
   * @return the line
   */
  public String describe() {
    if (!present) {
      return name + " (absent): " + explanation;
    }
    return name + " = " + (value.isEmpty() ? "(empty)" : value) + ": " + explanation;
  }
}
