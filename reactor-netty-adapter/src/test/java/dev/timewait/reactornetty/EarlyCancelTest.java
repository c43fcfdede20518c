package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Disposable;
import reactor.netty.http.client.HttpClient;

/**
 * Cancels, many times, calls whose response head is on its way: the moment at which Reactor Netty
 * 1.3 by itself now and then drops the connection, and reactor-core's {@code flatMap} now and then
 * loses the cancel (docs/reactor-netty.md "Cancel"). Each cancelled call's connection must close,
 * at the latest when the response timeout (1 s) ends an exchange whose cancel was lost: the
 * adapter closes what Reactor drops; it cannot tell a lost cancel from an operator's harmless
 * one, so the response timeout bounds those. The response stalls mid-body, so nothing else ends
 * a connection. A pass does not prove the drop gone (it is rare; {@link DroppedConnectionTest}
 * forces it); a failure shows a connection left open past the timeout, whatever the path.
 */
class EarlyCancelTest {
  /** Cancels per strategy: about 3 s each on loopback. */
  private static final int ROUNDS = 1_000;
  private static final Duration BOUND = Duration.ofSeconds(5);
  /** How often the test checks: the cancel comes within 50 µs of the request reaching the peer. */
  private static final Duration POLL = Duration.ofNanos(50_000);
  /** Ends an exchange whose cancel was lost (the response stalls). */
  private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(1);

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(),
        PooledKeepAlive.builder().maxTotal(4).build());
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void everyCancelAsTheResponseHeadArrivesClosesItsConnection(CloseStrategy strategy) throws Exception {
    KernelTcp.assumeReadable();
    CloseAccounting accounting = new CloseAccounting();
    HttpClient client = TimeWaitReactorNetty.configure(
        HttpClient.create(TimeWaitReactorNetty.connectionProvider("early-cancel", strategy))
            .responseTimeout(RESPONSE_TIMEOUT),
        strategy, accounting);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.STALL_MID_BODY, Duration.ZERO, false)) {
      String uri = "http://127.0.0.1:" + peer.port() + "/early";
      for (int i = 1; i <= ROUNDS; i++) {
        int round = i;
        Disposable call = client.get().uri(uri)
            .responseSingle((response, body) -> body.asByteArray())
            .subscribe(body -> { }, error -> { });
        // No sleep between the request reaching the peer and the cancel: the peer answers at once.
        if (!Leaks.await(() -> peer.requests() == round, BOUND, POLL)) {
          fail("request %d did not reach the peer within %s", round, BOUND);
        }
        call.dispose();
        if (!Leaks.await(() -> accounting.snapshot().open() == 0, BOUND, POLL)) {
          fail("cancel %d of %d left its connection open past the response timeout: %s; kernel: %s",
              round, ROUNDS, accounting.snapshot(), KernelTcp.describe(peer.port()));
        }
      }
      assertThat(peer.accepted()).as("a cancelled call's connection is never reused").isEqualTo(ROUNDS);
      assertThat(Leaks.await(() -> Leaks.liveClientSockets(peer.port()) == 0, BOUND))
          .as("no connection left open; kernel: %s", KernelTcp.describe(peer.port())).isTrue();
      // A socket closed with a FIN is in FIN_WAIT until the peer closes: settled first, or it counts 0.
      KernelTcp.awaitClientSettled(peer.port(), BOUND);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
  }
}
