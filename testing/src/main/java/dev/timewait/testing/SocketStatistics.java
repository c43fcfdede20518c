package dev.timewait.testing;

import java.util.List;

/**
 * Counts sockets with iproute2's {@code ss}, which dumps the kernel's TCP sockets over netlink
 * ({@code sock_diag}) with the filter applied in the kernel: a handful of messages for the sockets
 * that match, instead of the whole table in 4 KiB pieces (see {@link KernelTcp} for why that
 * matters). Bounded: {@code ss} gets {@link #BOUND_SECONDS} seconds.
 */
final class SocketStatistics {
  private static final long BOUND_SECONDS = 10;
  /** Whether {@code ss} ran once; null before the first try. */
  private static volatile Boolean available;

  private SocketStatistics() {}

  /**
   * TIME_WAIT sockets whose {@code side} ("sport" or "dport") is {@code port}, IPv4 and IPv6, or
   * null where {@code ss} cannot run (not Linux, not installed, or it failed).
   */
  static Integer timeWait(String side, int port) {
    if (Boolean.FALSE.equals(available)) {
      return null;
    }
    Integer count = run(List.of("ss", "-H", "-t", "-a", "-n", "state", "time-wait",
        "( " + side + " = :" + port + " )"));
    if (available == null) {
      available = count != null;
    }
    return count;
  }

  private static Integer run(List<String> command) {
    BoundedProcess.Result result;
    try {
      result = BoundedProcess.run(command, BOUND_SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    if (result == null || result.exitValue() != 0) {
      return null; // no ss here, it failed, or it outlived its bound
    }
    return (int) result.output().lines().filter(line -> !line.isBlank()).count();
  }
}
