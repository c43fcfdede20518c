package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.net.URI;
import java.time.Duration;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A TLS handshake that the async client rejects (the peer's certificate is not trusted) against a
 * peer that holds back its FIN until the client's: HttpCore's TLS layer would close such a
 * connection by itself, with a plain FIN first (client TIME_WAIT). The adapter resets it first,
 * and counts what really happened. Counted from the kernel's table.
 */
class AsyncTlsHandshakeFailureTest {
  private static final int REQUESTS = 10;
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(), CloseStrategy.pooled());
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void rejectedHandshakeResetsWithoutClientTimeWait(CloseStrategy strategy) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, true)) {
      URI uri = URI.create("https://localhost:" + peer.port() + "/");
      CloseAccounting accounting = new CloseAccounting();
      HttpClient5Options untrusting = HttpClient5Options.builder()
          .sslContext(SSLContext.getDefault()).build(); // does not trust TestTls's certificate
      try (TestClient client = new AsyncContractClient(
          TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), strategy, accounting, untrusting)
              .build(),
          accounting::snapshot)) {
        for (int i = 0; i < REQUESTS; i++) {
          assertThatThrownBy(() -> client.get(uri)).hasStackTraceContaining("SSL");
        }
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (accounting.snapshot().open() > 0 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      CloseStats stats = accounting.snapshot();
      int clientTimeWait = KernelTcp.clientTimeWait(peer.port());
      System.out.printf("handshake failures, %s: %s; client TIME_WAIT %d; %s%n",
          strategy.name(), stats, clientTimeWait, KernelTcp.describe(peer.port()));

      assertThat(stats.connectionsOpened()).isEqualTo(REQUESTS);
      assertThat(stats.open()).isZero();
      // The accounting never claims a reset for a connection that left client TIME_WAIT.
      assertThat(stats.closedByReset()).isLessThanOrEqualTo(stats.connectionsOpened() - clientTimeWait);
      assertThat(clientTimeWait).isZero();
      assertThat(stats.closedByReset()).isEqualTo(REQUESTS);
    }
  }
}
