package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Repeats the async client's idle eviction over TLS against a peer that holds back its FIN until
 * the client's: any client FIN before the reset leaves a client TIME_WAIT, counted per iteration
 * from the kernel's table. The repeat count is {@code -Dtimewait.repeat=N} (default 3; CI runs it on two JDKs).
 */
class AsyncTlsIdleEvictionRepeatTest {
  private static final int REPEAT = Integer.getInteger("timewait.repeat", 3);
  private static final Duration IDLE = Duration.ofMillis(200);
  private static final Duration EVICTION_BOUND = Duration.ofSeconds(15);
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  @ParameterizedTest
  @EnumSource(Retirement.class)
  void asyncTlsIdleEvictionNeverLeavesClientTimeWait(Retirement retirement) throws Exception {
    PooledKeepAlive strategy = PooledKeepAlive.builder()
        .maxTotal(2).idleTimeout(IDLE).retirement(retirement).build();
    List<String> leaks = new ArrayList<>();
    List<String> lies = new ArrayList<>();
    long totalOpened = 0;
    for (int i = 0; i < REPEAT; i++) {
      try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, true)) {
        URI uri = URI.create("https://localhost:" + peer.port() + "/");
        CloseAccounting accounting = new CloseAccounting();
        try (TestClient client = Flavor.ASYNC.client(strategy, accounting)) {
          for (int r = 0; r < 5; r++) {
            assertThat(client.get(uri)).isEqualTo(200);
          }
          long deadline = System.nanoTime() + EVICTION_BOUND.toNanos();
          while (accounting.snapshot().open() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
          }
          KernelTcp.awaitClientSettled(peer.port(), SETTLE);
          CloseStats stats = accounting.snapshot();
          int clientTw = KernelTcp.clientTimeWait(peer.port());
          totalOpened += stats.connectionsOpened();
          if (clientTw > 0) {
            leaks.add("#" + i + ": " + clientTw + " client TIME_WAIT, " + stats + "; "
                + KernelTcp.describe(peer.port()));
          }
          if (stats.closedByReset() > stats.connectionsOpened() - clientTw) {
            lies.add("#" + i + ": " + clientTw + " client TIME_WAIT but " + stats);
          }
        }
      }
    }
    System.out.printf("repeat %s: %d iterations, %d connections, %d iterations leaked client"
        + " TIME_WAIT, %d with resets claimed for them%n", retirement, REPEAT, totalOpened,
        leaks.size(), lies.size());
    leaks.forEach(System.out::println);
    assertThat(leaks).isEmpty();
    assertThat(lies).isEmpty();
  }
}
