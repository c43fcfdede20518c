package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * An inclusive range of TCP ports, such as the kernel's ephemeral range {@code 32768-60999} or
 * one entry of {@code ip_local_reserved_ports} ({@code 8080} or {@code 9000-9099}).
 *
 * <pre>{@code
 * PortRange ephemeral = PortRange.parse("32768\t60999");     // ip_local_port_range's format
 * List<PortRange> reserved = PortRange.parseList("8080,9000-9099");
 * int usable = ephemeral.size() - PortRange.countIn(ephemeral, reserved);
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param low the first port, 0 to 65535
 * @param high the last port, {@code low} to 65535
 */
public record PortRange(int low, int high) {
  /** The largest TCP port. */
  public static final int MAX_PORT = 65_535;

  /**
   * Validates: {@code 0 <= low <= high <= 65535}.
   *
   * @param low the first port, 0 to 65535
   * @param high the last port, {@code low} to 65535
   */
  public PortRange {
    Preconditions.checkInRange(low, 0, MAX_PORT, "low");
    Preconditions.checkInRange(high, 0, MAX_PORT, "high");
    if (high < low) {
      throw new IllegalArgumentException("high must be >= low (" + low + "), but was " + high);
    }
  }

  /**
   * The range of the one port {@code port}.
   *
   * @param port the port, 1 to 65535
   * @return the range of the one port {@code port}
   */
  public static PortRange of(int port) {
    return new PortRange(port, port);
  }

  /**
   * Parses one range: {@code "8080"}, {@code "9000-9099"}, or the two numbers separated by white
   * space as {@code ip_local_port_range} prints them ({@code "32768\t60999"}).
   *
   * @param text the text to parse
   * @return the range
   * @throws IllegalArgumentException naming the text, if it is not a range
   */
  public static PortRange parse(String text) {
    Preconditions.checkNotNull(text, "text");
    String t = text.trim();
    String[] parts = t.contains("-") ? t.split("-", -1) : t.split("\\s+");
    try {
      if (parts.length == 1) {
        return of(Integer.parseInt(parts[0].trim()));
      }
      if (parts.length == 2) {
        return new PortRange(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
      }
    } catch (NumberFormatException e) {
      // falls through to the message below
    }
    throw new IllegalArgumentException(
        "port range must be like 8080, 9000-9099 or \"32768 60999\", but was \"" + text + "\"");
  }

  /**
   * Parses a comma-separated list, as {@code ip_local_reserved_ports} prints it: {@code
   * "8080,9000-9099"}. Empty or blank text gives an empty list.
   *
   * @param text the text to parse
   * @return the ranges, in the order given
   * @throws IllegalArgumentException naming the entry, if one is not a range
   */
  public static List<PortRange> parseList(String text) {
    Preconditions.checkNotNull(text, "text");
    List<PortRange> ranges = new ArrayList<>();
    for (String part : text.trim().split(",")) {
      if (!part.isBlank()) {
        ranges.add(parse(part));
      }
    }
    return List.copyOf(ranges);
  }

  /** {@return the number of ports in the range} */
  public int size() {
    return high - low + 1;
  }

  /**
   * Whether {@code port} lies in the range.
   *
   * @param port the port, 1 to 65535
   * @return whether {@code port} lies in the range
   */
  public boolean contains(int port) {
    return port >= low && port <= high;
  }

  /**
   * How many distinct ports of {@code ranges} (which may overlap) lie inside {@code within}.
   *
   * @param within the range to count in
   * @param ranges the ranges to count
   * @return how many distinct ports of {@code ranges} (which may overlap) lie inside {@code within}
   */
  public static int countIn(PortRange within, List<PortRange> ranges) {
    Preconditions.checkNotNull(within, "within");
    Preconditions.checkNotNull(ranges, "ranges");
    BitSet ports = new BitSet();
    for (PortRange r : ranges) {
      int from = Math.max(r.low, within.low);
      int to = Math.min(r.high, within.high);
      if (from <= to) {
        ports.set(from, to + 1);
      }
    }
    return ports.cardinality();
  }

  /** {@code "8080"} or {@code "32768-60999"}. */
  @Override
  public String toString() {
    return low == high ? Integer.toString(low) : low + "-" + high;
  }
}
