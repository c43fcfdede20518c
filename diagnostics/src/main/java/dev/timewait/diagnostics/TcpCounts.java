package dev.timewait.diagnostics;

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

  /** {@return whether the kernel's tables were read} */
  public boolean supported() {
    return unsupportedReason == null;
  }

  /** {@return why the tables could not be read, e.g. "unsupported on this OS: Mac OS X"} */
  public Optional<String> unsupportedReason() {
    return Optional.ofNullable(unsupportedReason);
  }

  /**
   * Sockets in {@code state}.
   *
   * @param state the TCP state
   * @return sockets in {@code state}
   */
  public int get(TcpState state) {
    return counts[state.code()];
  }

  /** {@return sockets in TIME_WAIT} */
  public int timeWait() {
    return get(TcpState.TIME_WAIT);
  }

  /** {@return sockets in any state} */
  public int total() {
    int sum = 0;
    for (int c : counts) {
      sum += c;
    }
    return sum;
  }

  /** {@return the non-zero counts, by state} */
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
