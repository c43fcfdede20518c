package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.ServerClose;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.net.URI;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Server close against raw peers whose closing the test chooses, on both clients, plain and TLS:
 * the FIN wait is real (it waits for a late FIN) and bounded (it gives up on a peer that never
 * closes). TIME_WAIT is counted from the kernel's table.
 */
class ServerCloseBehaviourTest {
  private static final int REQUESTS = 5;
  private static final Duration SETTLE = Duration.ofSeconds(5);
  /** Generous: five requests that each wait 200 ms, on a loaded two-core machine. */
  private static final Duration NO_HANG = Duration.ofSeconds(30);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  static Stream<Arguments> flavorsAndTls() {
    return Stream.of(Flavor.values())
        .flatMap(f -> Stream.of(Arguments.of(f, false), Arguments.of(f, true)));
  }

  /**
   * The async client completes a call before its connection's FIN wait, and its close ends FIN
   * waits still under way (counted as aborts): let them end first, bounded, so that what is
   * counted is the FIN wait's own outcome. The classic client's calls return after it.
   */
  private static void awaitFinWaitsOver(CloseAccounting accounting) {
    Leaks.await(() -> accounting.snapshot().closed() == REQUESTS, NO_HANG);
  }

  private static URI uri(RawHttpPeer peer, boolean tls) {
    return URI.create((tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/");
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("flavorsAndTls")
  void serverCloseAgainstAPeerThatNeverClosesGivesUpAfterTheFinWaitAndResets(Flavor flavor, boolean tls)
      throws Exception {
    ServerClose strategy = ServerClose.builder().finWait(Duration.ofMillis(200)).build();
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.NEVER_CLOSE, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      long started = System.nanoTime();
      try (TestClient client = flavor.client(strategy, accounting)) {
        for (int i = 0; i < REQUESTS; i++) {
          assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        }
        awaitFinWaitsOver(accounting);
      }
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(NO_HANG);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(accounting.snapshot()).isEqualTo(new CloseStats(REQUESTS, 0, REQUESTS, 0, REQUESTS, 0, 0, 0));
      assertThat(peer.accepted()).isEqualTo(REQUESTS);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
      assertThat(KernelTcp.serverTimeWait(peer.port())).isZero();
    }
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("flavorsAndTls")
  void serverCloseWaitsForALateFinAndLeavesTimeWaitOnTheServerOnly(Flavor flavor, boolean tls)
      throws Exception {
    KernelCounters before = KernelCounters.read();
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.CLOSE_LATE, Duration.ofMillis(300), tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (TestClient client = flavor.client(ServerClose.builder().build(), accounting)) {
        for (int i = 0; i < REQUESTS; i++) {
          assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        }
        awaitFinWaitsOver(accounting);
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(accounting.snapshot()).isEqualTo(new CloseStats(REQUESTS, REQUESTS, 0, 0, 0, 0, 0, 0));
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
      assertThat(KernelTcp.awaitServerTimeWait(peer.port(), REQUESTS, SETTLE))
          .isBetween(REQUESTS - KernelTcp.strayResetsSince(before), REQUESTS);
    }
  }
}
