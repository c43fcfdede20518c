package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.ServerClose;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The async client closed with {@code CloseMode.IMMEDIATE} while a response body streams: HttpCore
 * closes every session gracefully from the caller's thread (AbstractSingleCoreIOReactor.close),
 * racing the reactor's shutdown command, which then never reaches the sessions closed first. The
 * exchange's connection must end at once, reset, as the client's shutdown. Before, a session
 * closed ahead of the command read {@code STRATEGY} or {@code IDLE_EVICTION}, and under server
 * close, armed with its body still coming, it waited out the FIN wait (5 s here) and read {@code
 * FIN_WAIT_TIMEOUT} (measured: 7 of 10 closes). Each case runs several rounds, a client each, so
 * that the race's either side is met. TIME_WAIT is read from the kernel's table.
 */
class AsyncImmediateShutdownTest {
  private static final Duration FIN_WAIT = Duration.ofSeconds(5);
  /** Well inside the FIN wait: a close that waited for the FIN would come after it. */
  private static final Duration AT_ONCE = Duration.ofSeconds(2);
  private static final int ROUNDS = 4;

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  @ParameterizedTest(name = "{0}, tls={1}")
  @CsvSource({"server-close,false", "server-close,true", "pooled,false", "pooled,true",
      "pooled-server-close,false", "reset,false", "reset,true"})
  void anExchangeUnderWayWhenTheClientClosesImmediatelyEndsAtOnceAsTheShutdown(
      String strategy, boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.PAUSED_STREAM, Duration.ofSeconds(10), tls)) {
      String url = (tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/stream";
      for (int round = 1; round <= ROUNDS; round++) {
        CloseAccounting accounting = new CloseAccounting();
        List<CloseEvent> events = new CopyOnWriteArrayList<>();
        accounting.addListener(events::add);
        CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(
            HttpAsyncClients.custom(), strategy(strategy), accounting, Flavor.options()).build();
        client.start();
        int before = peer.requests();
        Future<SimpleHttpResponse> call = client.execute(SimpleRequestBuilder.get(url).build(), null);
        assertThat(Leaks.await(() -> peer.requests() > before, Duration.ofSeconds(10))).isTrue();
        Thread.sleep(200); // the head and the first chunk are in; the rest comes after the pause
        client.close(CloseMode.IMMEDIATE);
        assertThat(Leaks.await(() -> !events.isEmpty(), AT_ONCE))
            .as("round %d: a close heard within %s (%s)", round, AT_ONCE, accounting).isTrue();
        CloseEvent event = events.get(0);
        assertThat(event.reason()).as("round %d: %s", round, event).isEqualTo(CloseEvent.Reason.SHUTDOWN);
        assertThat(event.mode()).as("round %d: %s", round, event).isEqualTo(CloseEvent.Mode.RESET);
        // Not asserted: that the call ends. HttpClient 5.6 fails a call when its reactor reports
        // the session closed, which a reactor closed this way never does: the raw client's calls
        // stayed pending too (4 of 4 after 2 s). Callers of close(IMMEDIATE) bound their waits.
        call.cancel(true);
      }
      KernelTcp.awaitClientSettled(peer.port(), Duration.ofSeconds(5));
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  private static CloseStrategy strategy(String name) {
    switch (name) {
      case "server-close":
        return ServerClose.builder().finWait(FIN_WAIT).build();
      case "pooled":
        return PooledKeepAlive.builder().build();
      case "pooled-server-close":
        return PooledKeepAlive.builder().retirement(Retirement.SERVER_CLOSE).finWait(FIN_WAIT).build();
      default:
        return CloseStrategy.reset();
    }
  }
}
