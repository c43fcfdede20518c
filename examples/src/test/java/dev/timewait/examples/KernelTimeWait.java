package dev.timewait.examples;

import dev.timewait.TcpCounts;
import dev.timewait.TcpFilter;
import dev.timewait.TcpState;
import dev.timewait.TcpTable;
import org.junit.jupiter.api.Assumptions;

/**
 * Copy this helper along with the tests: TIME_WAIT on the client's side of connections to a
 * server port, counted from the kernel's own table with timewait-core's {@link TcpTable}.
 */
final class KernelTimeWait {
  private KernelTimeWait() {}

  /** Skips the calling test, with the reason, where the kernel's table cannot be read. */
  static void assumeLinux() {
    Assumptions.assumeTrue(TcpTable.system().isSupported(),
        "counts TIME_WAIT from the kernel's /proc/net/tcp table, which only Linux has");
  }

  /**
   * TIME_WAIT sockets towards {@code serverPort}, once the client's closing sockets have settled
   * (FIN_WAIT, CLOSING and LAST_ACK end within milliseconds on loopback; bounded by 2 s).
   */
  static int clientTimeWait(int serverPort) throws InterruptedException {
    TcpFilter towardsServer = TcpFilter.remotePort(serverPort);
    long deadline = System.nanoTime() + 2_000_000_000L;
    TcpCounts counts = TcpTable.system().count(towardsServer);
    while (closing(counts) > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
      counts = TcpTable.system().count(towardsServer);
    }
    return counts.timeWait();
  }

  private static int closing(TcpCounts counts) {
    return counts.get(TcpState.FIN_WAIT1) + counts.get(TcpState.FIN_WAIT2)
        + counts.get(TcpState.CLOSING) + counts.get(TcpState.LAST_ACK);
  }
}
