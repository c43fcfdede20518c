package dev.timewait;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The sockets of a {@link TcpTable} scan that matched a {@link TcpFilter}, counted by state. Where
 * the kernel's tables cannot be read (not Linux), the counts are all zero and {@link #supported()}
 * is false, with the reason: data, never an exception.
 *
 * <pre>{@code
 * TcpCounts counts = TcpTable.system().count(TcpFilter.remotePort(8080));
 * if (counts.supported()) System.out.println(counts.get(TcpState.TIME_WAIT));
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class TcpCounts {
  private final int[] counts;
  private final String unsupportedReason;

  TcpCounts(int[] counts, String unsupportedReason) {
    this.counts = counts;
    this.unsupportedReason = unsupportedReason;
  }

  static TcpCounts unsupported(String reason) {
    return new TcpCounts(new int[16], reason);
  }

  /** Whether the kernel's tables were read. */
  public boolean supported() {
    return unsupportedReason == null;
  }

  /** Why the tables could not be read, e.g. "unsupported on this OS: Mac OS X". */
  public Optional<String> unsupportedReason() {
    return Optional.ofNullable(unsupportedReason);
  }

  /** Sockets in {@code state}. */
  public int get(TcpState state) {
    return counts[state.code()];
  }

  /** Sockets in TIME_WAIT. */
  public int timeWait() {
    return get(TcpState.TIME_WAIT);
  }

  /** Sockets in any state. */
  public int total() {
    int sum = 0;
    for (int c : counts) {
      sum += c;
    }
    return sum;
  }

  /** The non-zero counts, by state. */
  public Map<TcpState, Integer> asMap() {
    Map<TcpState, Integer> map = new EnumMap<>(TcpState.class);
    for (TcpState s : TcpState.values()) {
      if (counts[s.code()] != 0) {
        map.put(s, counts[s.code()]);
      }
    }
    return map;
  }

  @Override
  public String toString() {
    return supported() ? asMap().toString() : "unsupported (" + unsupportedReason + ")";
  }
}
