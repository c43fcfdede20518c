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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Disposable;
import reactor.netty.http.client.HttpClient;

/**
 * Cancels, many times, calls whose response head is on its way: the moment at which Reactor Netty
 * 1.3 by itself now and then drops the connection (docs/reactor-netty.md "Cancel"; raw, 1 in 200
 * to 1 in 3,300 such cancels). Each must close its connection. A pass does not prove the race
 * gone (it is rare; {@link DroppedConnectionTest} forces the drop); a failure shows a cancel the
 * adapter lost, whatever the path.
 */
class EarlyCancelTest {
  /** Cancels per strategy: about 3 s each on loopback. */
  private static final int ROUNDS = 1_000;
  private static final Duration BOUND = Duration.ofSeconds(5);

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
        HttpClient.create(TimeWaitReactorNetty.connectionProvider("early-cancel", strategy)),
        strategy, accounting);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.STALL_MID_BODY, Duration.ZERO, false)) {
      String uri = "http://127.0.0.1:" + peer.port() + "/early";
      for (int i = 1; i <= ROUNDS; i++) {
        int round = i;
        Disposable call = client.get().uri(uri)
            .responseSingle((response, body) -> body.asByteArray())
            .subscribe(body -> { }, error -> { });
        // No sleep between the request reaching the peer and the cancel: the peer answers at once.
        if (!spin(() -> peer.requests() == round)) {
          fail("request %d did not reach the peer within %s", round, BOUND);
        }
        call.dispose();
        if (!spin(() -> accounting.snapshot().open() == 0)) {
          fail("cancel %d of %d left its connection open: %s; kernel: %s", round, ROUNDS,
              accounting.snapshot(), KernelTcp.describe(peer.port()));
        }
      }
      assertThat(peer.accepted()).as("a cancelled call's connection is never reused").isEqualTo(ROUNDS);
      assertThat(Leaks.await(() -> Leaks.liveClientSockets(peer.port()) == 0, BOUND))
          .as("no connection left open; kernel: %s", KernelTcp.describe(peer.port())).isTrue();
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
    } finally {
      TimeWaitReactorNetty.shutdown(client);
    }
  }

  /** Waits at most {@link #BOUND} for {@code condition}, checking every 50 µs. */
  private static boolean spin(BooleanSupplier condition) {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
    }
    return true;
  }
}
