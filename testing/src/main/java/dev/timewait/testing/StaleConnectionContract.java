package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pooled keep-alive against peers that close idle connections, written once and run by every
 * adapter: a request never goes out on a connection the peer has already closed, with the
 * client's own retries switched off, so that nothing hides a lost request. Each case runs against
 * a {@link RawHttpPeer} on loopback, plain and TLS, under both retirements, and checks the
 * kernel's table for client TIME_WAIT.
 *
 * <p>A JUnit test class: JUnit makes an instance per test method and runs it on one thread.
 *
 * <p>Tagged {@link ContractTags#IDLE_WAITS} (its virtual-thread case also {@link
 * ContractTags#VIRTUAL_THREADS}). {@code @Isolated}: its checks read JVM-wide and host-wide state (threads inside timewait's
 * socket layer, FIN waits under way, the kernel's table), which tests running beside it under
 * JUnit's parallel execution would move.
 */
@org.junit.jupiter.api.parallel.Isolated
@org.junit.jupiter.api.Tag(ContractTags.IDLE_WAITS)
public abstract class StaleConnectionContract {
  /** The idle timeout of the peers that close idle connections without saying so. */
  private static final Duration PEER_IDLE = Duration.ofMillis(200);
  /** An idle gap well past {@link #PEER_IDLE} and past the pool's stale-check threshold. */
  private static final Duration GAP = PooledKeepAlive.DEFAULT_STALE_CHECK_AFTER_IDLE.plusMillis(400);
  private static final Duration SETTLE = Duration.ofSeconds(5);
  /**
   * Bound on any one call and on the client's close: the calls go to a peer on loopback, so one
   * that takes longer hangs (the implementor's client may have no timeouts of its own).
   */
  private static final Duration CALL_BOUND = Duration.ofSeconds(30);
  /** Requests per case: each after the first reuses, or finds closed, the connection before it. */
  private static final int ROUNDS = 3;
  /**
   * A pause after a call, so that its connection is back in the pool before the next call: the
   * async client releases a connection after it completed the call, and a call that comes sooner
   * leases a new one. Well under the stale check's threshold, so the reuse is not checked.
   */
  private static final Duration BACK_IN_POOL = Duration.ofMillis(100);

  /**
   * A pooled client made by the adapter for {@code strategy}, counting into {@code accounting},
   * with the client's own retries off (HttpClient's retry strategy, OkHttp's
   * retryOnConnectionFailure), trusting {@link TestTls}.
   *
   * @param strategy the strategy under test
   * @param accounting where the client counts how its connections end
   * @return a new client
   * @throws Exception if the client cannot be made
   */
  protected abstract FaultClient newClientWithoutRetries(
      PooledKeepAlive strategy, CloseAccounting accounting) throws Exception;

  /**
   * As {@link #newClientWithoutRetries(PooledKeepAlive, CloseAccounting)}, with {@code
   * responseTimeout} as the wait for a response (the read or response timeout). Override it to
   * run {@link #anUnansweredRequestThatTimesOutIsNeverSentAgain}; by default that test is skipped,
   * saying so.
   *
   * @param strategy the strategy under test
   * @param accounting where the client counts how its connections end
   * @param responseTimeout how long a call waits for its response
   * @return a new client
   * @throws Exception if the client cannot be made
   */
  protected FaultClient newClientWithoutRetries(
      PooledKeepAlive strategy, CloseAccounting accounting, Duration responseTimeout) throws Exception {
    org.junit.jupiter.api.Assumptions.abort("override newClientWithoutRetries(strategy, accounting,"
        + " responseTimeout) to run the timeout case");
    return null;
  }

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  static java.util.stream.Stream<Arguments> retirementsAndTls() {
    return java.util.stream.Stream.of(
        Arguments.of(Retirement.RESET, false), Arguments.of(Retirement.RESET, true),
        Arguments.of(Retirement.SERVER_CLOSE, false), Arguments.of(Retirement.SERVER_CLOSE, true));
  }

  static java.util.stream.Stream<Arguments> eachRetirementAndEachTransportOnce() {
    return java.util.stream.Stream.of(
        Arguments.of(Retirement.RESET, false), Arguments.of(Retirement.SERVER_CLOSE, true));
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void aConnectionThePeerClosedWhileIdleNeverCarriesARequest(Retirement retirement, boolean tls)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, PEER_IDLE, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        for (int i = 0; i < ROUNDS; i++) {
          assertThat(client.get(uri(peer, tls))).as("request %d", i + 1).isEqualTo(200);
          if (i < ROUNDS - 1) {
            Thread.sleep(GAP.toMillis()); // the peer closes the idle connection meanwhile
          }
        }
      }
      CloseStats stats = accounting.snapshot();
      assertThat(peer.accepted()).as("one connection per request: none was reused").isEqualTo(ROUNDS);
      // A request sent into the closed connection and answered by timewait's retry on a new one
      // would leave every count above as it is: only the retry's own count tells.
      assertThat(stats.staleRetries()).as("no request went into a closed connection: %s", stats).isZero();
      assertThat(stats.connectionsOpened()).isEqualTo(ROUNDS);
      assertThat(stats.closedLocallyFirst()).as("%s", stats).isZero();
      assertThat(stats.open()).as("%s", stats).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * Two of the four pairs of retirement and TLS, each retirement and each transport once: nothing
   * retires here but at the shutdown, which closes the connection still open to a peer that keeps
   * it 10 s.
   */
  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("eachRetirementAndEachTransportOnce")
  void aConnectionReusedWithinThePeersIdleTimeoutStaysInThePool(Retirement retirement, boolean tls)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(
        RawHttpPeer.Behaviour.IDLE_CLOSE, Duration.ofSeconds(10), tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        for (int i = 0; i < ROUNDS; i++) {
          assertThat(client.get(uri(peer, tls))).isEqualTo(200);
          if (i < ROUNDS - 1) {
            Thread.sleep(GAP.toMillis()); // idle long enough to be checked, and still alive
          }
        }
      }
      assertThat(peer.accepted()).as("the live connection was kept").isEqualTo(1);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void aPeerThatAnnouncesItsIdleTimeoutSeesTheConnectionRetiredBeforeItCloses(
      Retirement retirement, boolean tls) throws Exception {
    // Keep-Alive: timeout=1 and a close after 1 s idle; the client sends again after 900 ms,
    // past the announced timeout less its margin and before the peer closes.
    try (RawHttpPeer peer = RawHttpPeer.start(
        RawHttpPeer.Behaviour.ANNOUNCED_IDLE_CLOSE, Duration.ofSeconds(1), tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        Thread.sleep(900);
        assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        assertThat(peer.accepted()).as("retired at the announced timeout, less the margin")
            .isEqualTo(2);
      }
      assertThat(accounting.snapshot().open()).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void anHttp10ResponseWithoutKeepAliveIsNeverPooled(Retirement retirement, boolean tls)
      throws Exception {
    int requests = 20;
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.HTTP_1_0, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        for (int i = 0; i < requests; i++) {
          assertThat(client.get(uri(peer, tls))).as("request %d", i + 1).isEqualTo(200);
        }
      }
      assertThat(peer.accepted()).isEqualTo(requests);
      assertThat(accounting.snapshot().staleRetries())
          .as("no request went into a connection the HTTP/1.0 peer closed: %s", accounting.snapshot())
          .isZero();
      assertThat(accounting.snapshot().open()).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * Two of the four pairs of retirement and TLS, each retirement and each transport once: how a
   * client learns differs by transport (over TLS the close_notify comes before the FIN), not by
   * retirement, and each run waits 4 s of the peer's idle timeout (four pairs on four clients
   * were 66 s of CI's 30 minutes). All four pairs' finding of the closed connection is {@link
   * #aConnectionThePeerClosedWhileIdleNeverCarriesARequest}'s.
   */
  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("eachRetirementAndEachTransportOnce")
  void aPeerThatClosesIdleConnectionsWithoutSayingSoIsLearnedAndItsConnectionsRetireBeforeItCloses(
      Retirement retirement, boolean tls) throws Exception {
    // The peer closes after 2 s idle and never says so. The first reuse comes after 2.2 s: the
    // connection is found closed (no request lost) and the peer's timeout learned as at most
    // 2.2 s (the async client's reactor sees the FIN itself, at 2 s). Its connections then retire
    // after 1.76 s idle at the latest, so the next one, idle 1.85 s and still open at the peer,
    // is not reused: a new connection carries the third request.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, Duration.ofSeconds(2), tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        Thread.sleep(2200);
        assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        Thread.sleep(1850);
        assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        assertThat(peer.accepted()).as("the connection idle past the learned timeout was retired")
            .isEqualTo(3);
      }
      CloseStats stats = accounting.snapshot();
      assertThat(stats.closedIdleByPeer()).as("%s", stats).isEqualTo(1);
      assertThat(stats.closedLocallyFirst()).as("%s", stats).isZero();
      java.util.Map<java.net.InetSocketAddress, Duration> learned = accounting.peerIdleTimeouts().learned();
      assertThat(learned).as("learned per destination").hasSize(1);
      Duration upperBound = learned.values().iterator().next();
      assertThat(upperBound).as("%s", learned)
          .isBetween(Duration.ofMillis(1950), Duration.ofMillis(2600));
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void aResponseThatPausesMidBodyTeachesNoIdleTimeout(Retirement retirement, boolean tls)
      throws Exception {
    // A stream pauses 300 ms and ends with its 5-byte last chunk (server-sent events), then the
    // client's close ends the connection; another response is cut (FIN) 300 ms into its body (a
    // balancer's server timeout). Neither pause is the peer's idle timeout. Learned as one, it
    // would retire every later connection to that peer after 240 ms idle, for the client's life.
    Duration pause = Duration.ofMillis(300);
    try (RawHttpPeer stream = RawHttpPeer.start(RawHttpPeer.Behaviour.PAUSED_STREAM, pause, tls);
         RawHttpPeer cut = RawHttpPeer.start(RawHttpPeer.Behaviour.TRUNCATED_AFTER_PAUSE, pause, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        assertThat(client.get(uri(stream, tls))).isEqualTo(200);
        Throwable failure = null;
        try {
          client.get(uri(cut, tls));
        } catch (Exception expected) {
          failure = expected;
        }
        assertThat(failure).as("the response cut mid-body fails its call").isNotNull();
      }
      CloseStats stats = accounting.snapshot();
      assertThat(accounting.peerIdleTimeouts().learned()).as("%s", stats).isEmpty();
      assertThat(stats.closedIdleByPeer()).as("%s", stats).isZero();
      for (RawHttpPeer peer : java.util.List.of(stream, cut)) {
        KernelTcp.awaitClientSettled(peer.port(), SETTLE);
        assertThat(KernelTcp.clientTimeWait(peer.port())).as("port %d", peer.port()).isZero();
      }
    }
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void aServerThatAnnouncesItTakesNoMoreRequestsOnAConnectionSeesNoReuse(Retirement retirement, boolean tls)
      throws Exception {
    int requests = 5;
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.ANNOUNCED_NO_MORE, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        for (int i = 0; i < requests; i++) {
          assertThat(client.get(uri(peer, tls))).as("request %d", i + 1).isEqualTo(200);
        }
      }
      assertThat(peer.accepted()).as("Keep-Alive: max=0 heeded").isEqualTo(requests);
      assertThat(accounting.snapshot().closedLocallyFirst()).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void anIdempotentRequestWhoseReusedConnectionIsDroppedUnansweredGoesOutOnceMore(
      Retirement retirement, boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        assertThat(client.exchange("PUT", uri(peer, tls), java.util.Map.of(), new byte[] {1, 2, 3}).status())
            .as("dropped on the reused connection, answered on a fresh one").isEqualTo(200);
      }
      CloseStats stats = accounting.snapshot();
      assertThat(stats.staleRetries()).as("%s", stats).isEqualTo(1);
      assertThat(peer.accepted()).isEqualTo(2);
      assertThat(peer.requests()).as("the PUT reached the peer twice: dropped, then answered").isEqualTo(3);
      assertThat(stats.closedLocallyFirst()).as("%s", stats).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * An answer, if a malformed one, is an answer: the request reached a server that acted on it.
   * Over TLS the few bytes a short answer takes fit those of a peer's close alerts; OkHttp's
   * adapter took them for the alerts and sent the PUT again (session 46's audit).
   */
  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void anIdempotentRequestAnsweredWithAMalformedHeadOnAReusedConnectionIsNeverSentAgain(
      Retirement retirement, boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.MALFORMED_SECOND_RESPONSE, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        assertThat(client.get(uri(peer, tls))).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> client.exchange("PUT", uri(peer, tls), java.util.Map.of(), new byte[] {1, 2, 3}))
            .as("a malformed answer fails the call")
            .isInstanceOf(Exception.class); // the client's failure, not the bound's AssertionError
      }
      CloseStats stats = accounting.snapshot();
      assertThat(stats.staleRetries()).as("%s", stats).isZero();
      assertThat(peer.requests()).as("the PUT reached the peer once").isEqualTo(2);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @ParameterizedTest(name = "{0} tls={1}")
  @MethodSource("retirementsAndTls")
  void aPostWhoseReusedConnectionIsDroppedUnansweredFailsAndIsNeverSentTwice(
      Retirement retirement, boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      try (FaultClient client = client(pooled(retirement), accounting)) {
        byte[] body = {1, 2, 3};
        assertThat(client.exchange("POST", uri(peer, tls), java.util.Map.of(), body).status()).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> client.exchange("POST", uri(peer, tls), java.util.Map.of(), body))
            .as("HTTP does not let a client send a POST again on its own")
            .isInstanceOf(Exception.class); // the client's failure, not the bound's AssertionError
      }
      assertThat(peer.requests()).as("the second POST reached the peer once").isEqualTo(2);
      assertThat(peer.accepted()).isEqualTo(1);
      CloseStats stats = accounting.snapshot();
      assertThat(stats.staleRetries()).as("timewait never sends a POST again: %s", stats).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @org.junit.jupiter.api.Test
  void anUnansweredRetryCanBeSwitchedOff() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      CloseAccounting accounting = new CloseAccounting();
      PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(4).retryUnanswered(false).build();
      try (FaultClient client = client(strategy, accounting)) {
        assertThat(client.get(uri(peer, false))).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.get(uri(peer, false)))
            .isInstanceOf(Exception.class); // the client's failure, not the bound's AssertionError
      }
      assertThat(accounting.snapshot().staleRetries()).isZero();
      assertThat(peer.requests()).isEqualTo(2);
    }
  }

  /** The adapter's client, each call bounded by {@link #CALL_BOUND}. */
  private FaultClient client(PooledKeepAlive strategy, CloseAccounting accounting) throws Exception {
    return BoundedCalls.bounded(newClientWithoutRetries(strategy, accounting), CALL_BOUND);
  }

  /**
   * A caller that gives up on a request still unanswered on a reused connection (its thread
   * interrupted: a {@code Future.cancel(true)}, a time limiter) cancelled it: the request is never
   * sent again. On a virtual thread (JDK 21+; skipped, saying why, before) the interrupt ends the
   * read with "Closed by interrupt" and no response byte, which looks like an unanswered request
   * that the peer dropped.
   */
  @org.junit.jupiter.api.Test
  @org.junit.jupiter.api.Tag(ContractTags.VIRTUAL_THREADS)
  void anUnansweredRequestWhoseCallerIsInterruptedIsNeverSentAgain() throws Exception {
    VirtualThreads.assumeAvailable();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.HOLD_SECOND_REQUEST, Duration.ZERO, false)) {
      CloseAccounting accounting = new CloseAccounting();
      // The interrupted call goes to the client itself, on the virtual thread; the rest bounded.
      FaultClient raw = newClientWithoutRetries(PooledKeepAlive.builder().maxTotal(4).build(), accounting);
      try (FaultClient bounded = BoundedCalls.bounded(raw, CALL_BOUND)) {
        assertThat(bounded.get(uri(peer, false))).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        java.util.concurrent.atomic.AtomicReference<String> outcome =
            new java.util.concurrent.atomic.AtomicReference<>("still running");
        Thread caller = VirtualThreads.unstarted(() -> {
          try {
            outcome.set("completed: " + raw.get(uri(peer, false)));
          } catch (Exception e) {
            outcome.set("failed: " + e);
          }
        });
        caller.start();
        assertThat(Leaks.await(() -> peer.requests() == 2, CALL_BOUND)).as("the second request sent")
            .isTrue();
        caller.interrupt();
        caller.join(CALL_BOUND.toMillis());
        assertThat(caller.isAlive()).as("the interrupted caller still waits").isFalse();
        assertThat(outcome.get()).startsWith("failed");
        // The call was cancelled, not left running behind the caller (a subscription or exchange
        // the interrupt did not reach would keep the request held, and the counts below true,
        // until the peer's hold ends 10 s later): its connection ends at once.
        assertThat(Leaks.await(() -> accounting.snapshot().closed() >= 1, Duration.ofSeconds(2)))
            .as("the interrupted call's connection ended: %s", accounting.snapshot()).isTrue();
        Thread.sleep(BACK_IN_POOL.toMillis() * 3); // a second send would come at once
        assertThat(peer.requests()).as("requests the peer read").isEqualTo(2);
        assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isZero();
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  /**
   * A request on a reused connection that timed out with no byte of its response was not dropped
   * by the peer: the server may still be working on it. It is not sent again (a second copy would
   * run beside the first and double the caller's wait), as the clients' own retries leave a
   * timeout.
   */
  @org.junit.jupiter.api.Test
  void anUnansweredRequestThatTimesOutIsNeverSentAgain() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.HOLD_SECOND_REQUEST, Duration.ZERO, false)) {
      CloseAccounting accounting = new CloseAccounting();
      FaultClient raw = newClientWithoutRetries(
          PooledKeepAlive.builder().maxTotal(4).build(), accounting, Duration.ofSeconds(1));
      try (FaultClient client = BoundedCalls.bounded(raw, CALL_BOUND)) {
        assertThat(client.get(uri(peer, false))).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.get(uri(peer, false)))
            .as("the held request times out").isInstanceOf(Exception.class);
        Thread.sleep(BACK_IN_POOL.toMillis() * 3); // a second send would come at once
        assertThat(peer.requests()).as("requests the peer read").isEqualTo(2);
        assertThat(peer.accepted()).isEqualTo(1);
        assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isZero();
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  private static PooledKeepAlive pooled(Retirement retirement) {
    return PooledKeepAlive.builder().maxTotal(4).retirement(retirement).build();
  }

  private static URI uri(RawHttpPeer peer, boolean tls) {
    return URI.create((tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/stale");
  }
}
