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
  /**
   * Whether {@code ss} can run here: null until a run tells (a run that outlived its bound or was
   * interrupted tells nothing, so that one slow moment does not switch it off for the JVM).
   */
  private static volatile Boolean available;

  private SocketStatistics() {}

  /**
   * TIME_WAIT sockets whose {@code side} ("sport" or "dport") is {@code port}, IPv4 and IPv6, or
   * null where {@code ss} cannot run (not Linux, not installed, or it failed) or did not answer
   * within its bound.
   */
  static Integer timeWait(String side, int port) {
    if (Boolean.FALSE.equals(available)) {
      return null;
    }
    BoundedProcess.Result result;
    try {
      result = BoundedProcess.run(List.of("ss", "-H", "-t", "-a", "-n", "state", "time-wait",
          "( " + side + " = :" + port + " )"), BOUND_SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    if (result != null && result.timedOut()) {
      return null; // a slow moment: ask again next time
    }
    boolean ran = result != null && result.exitValue() == 0;
    if (available == null) {
      available = ran; // not installed, or it fails here (no netlink): it will not do better
    }
    return ran ? (int) result.output().lines().filter(line -> !line.isBlank()).count() : null;
  }
}
