package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseListener;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a {@link CloseListener} hears of each close, written once and run by every adapter: for
 * each strategy and each way a pooled connection ends, the close's mode, reason, destination,
 * strategy and the requests the connection carried, against a {@link RawHttpPeer} on loopback
 * (plain HTTP), with the kernel's table showing no client TIME_WAIT afterwards. Every wait is
 * bounded; nothing is timed beyond generous bounds.
 *
 * <p>A JUnit test class: JUnit makes an instance per test method and runs it on one thread.
 *
 * <p>{@code @Isolated}: its checks read JVM-wide and host-wide state (threads inside timewait's
 * socket layer, FIN waits under way, the kernel's table), which tests running beside it under
 * JUnit's parallel execution would move.
 */
@org.junit.jupiter.api.parallel.Isolated
public abstract class CloseEventContract {
  private static final Duration EVENT_BOUND = Duration.ofSeconds(10);
  private static final Duration SETTLE = Duration.ofSeconds(5);
  /**
   * Bound on any one call and on the client's close: the calls go to a peer on loopback, so one
   * that takes longer hangs (the implementor's client may have no timeouts of its own).
   */
  private static final Duration CALL_BOUND = Duration.ofSeconds(30);
  /**
   * A pause after a call, so that its connection is back in the pool before the next call (the
   * async clients release a connection after they completed the call).
   */
  private static final Duration BACK_IN_POOL = Duration.ofMillis(100);

  /**
   * A client made by the adapter for {@code strategy}, counting into {@code accounting}, with the
   * client's own retries off; {@link ContractClient#close()} shuts it down the adapter's way.
   *
   * @param strategy the strategy under test
   * @param accounting where the client counts how its connections end
   * @return a new client
   * @throws Exception if the client cannot be made
   */
  protected abstract FaultClient newClient(CloseStrategy strategy, CloseAccounting accounting)
      throws Exception;

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  @Test
  void aServerCloseIsHeardAfterThePeersFinWithItsStrategyRequestAndFinWait() throws Exception {
    // The peer closes 100 ms after its Connection: close response: the client's FIN wait has begun.
    try (RawHttpPeer peer = RawHttpPeer.start(
        RawHttpPeer.Behaviour.CLOSE_LATE, Duration.ofMillis(100), false)) {
      Heard heard = new Heard();
      try (FaultClient client = client(CloseStrategy.serverClose(), heard.accounting)) {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        CloseEvent event = heard.first();
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.AFTER_PEER_FIN);
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.STRATEGY);
        assertThat(event.requests()).as("%s", event).isEqualTo(1);
        assertThat(event.destination()).isEqualTo("127.0.0.1:" + peer.port());
        assertThat(event.strategy()).isEqualTo(CloseStrategy.Kind.SERVER_CLOSE);
        assertThat(event.finWaitNanos()).as("%s", event).isPositive();
        assertThat(event.lifetimeNanos()).as("%s", event).isGreaterThanOrEqualTo(event.finWaitNanos());
      }
      assertNoClientTimeWait(peer);
    }
  }

  @Test
  void aResetCloseIsHeardAsAResetForTheStrategyAfterOneRequest() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.AWAIT_CLIENT_CLOSE)) {
      Heard heard = new Heard();
      try (FaultClient client = client(CloseStrategy.reset(), heard.accounting)) {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        CloseEvent event = heard.first();
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.RESET);
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.STRATEGY);
        assertThat(event.requests()).as("%s", event).isEqualTo(1);
        assertThat(event.destination()).isEqualTo("127.0.0.1:" + peer.port());
        assertThat(event.strategy()).isEqualTo(CloseStrategy.Kind.RESET);
        assertThat(event.finWaitNanos()).isZero();
      }
      assertNoClientTimeWait(peer);
    }
  }

  @ParameterizedTest
  @EnumSource(Retirement.class)
  void aPooledConnectionThatCarriedItsCapIsHeardAsTheRequestCapAfterThatManyRequests(
      Retirement retirement) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      Heard heard = new Heard();
      PooledKeepAlive strategy = pooled().maxRequestsPerConnection(3).retirement(retirement).build();
      try (FaultClient client = client(strategy, heard.accounting)) {
        for (int i = 0; i < 3; i++) {
          assertThat(client.get(uri(peer))).isEqualTo(200);
          Thread.sleep(BACK_IN_POOL.toMillis());
        }
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.REQUEST_CAP);
        assertThat(event.requests()).as("%s", event).isEqualTo(3);
        assertThat(event.strategy()).isEqualTo(CloseStrategy.Kind.POOLED);
        assertThat(event.destination()).isEqualTo("127.0.0.1:" + peer.port());
        assertThat(event.mode()).as("%s", event).isEqualTo(retirement == Retirement.RESET
            ? CloseEvent.Mode.RESET : CloseEvent.Mode.AFTER_PEER_FIN);
        assertThat(peer.accepted()).isEqualTo(1);
      }
      assertNoClientTimeWait(peer);
    }
  }

  @Test
  void aPooledConnectionPastItsLifetimeIsHeardAsTheLifetimeWithItsNextRequest() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      Heard heard = new Heard();
      PooledKeepAlive strategy = pooled().maxLifetime(Duration.ofMillis(300)).build();
      try (FaultClient client = client(strategy, heard.accounting)) {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        Thread.sleep(400);
        assertThat(client.get(uri(peer))).isEqualTo(200);
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.LIFETIME);
        assertThat(event.requests()).as("%s", event).isEqualTo(2);
        assertThat(event.lifetimeNanos()).as("%s", event)
            .isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
      }
      assertNoClientTimeWait(peer);
    }
  }

  @Test
  void aPooledConnectionIdlePastItsIdleTimeoutIsHeardAsIdleEviction() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      Heard heard = new Heard();
      PooledKeepAlive strategy = pooled().idleTimeout(Duration.ofMillis(500)).build();
      try (FaultClient client = client(strategy, heard.accounting)) {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        CloseEvent event = heard.first(); // the pool evicts it while the client still runs
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.IDLE_EVICTION);
        assertThat(event.requests()).as("%s", event).isEqualTo(1);
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.RESET);
      }
      assertNoClientTimeWait(peer);
    }
  }

  /**
   * The peers that end a connection by what they say: {@code Connection: close}, {@code max=0},
   * HTTP/1.0, a body framed only by the close.
   */
  public enum Announcing {
    /** {@code Connection: close}, then the peer closes. */
    CONNECTION_CLOSE(RawHttpPeer.Behaviour.CLOSE_AFTER_RESPONSE),
    /** {@code Keep-Alive: timeout=5, max=0}, the connection kept open. */
    KEEP_ALIVE_MAX_0(RawHttpPeer.Behaviour.ANNOUNCED_NO_MORE),
    /** {@code Keep-Alive: timeout=0}: no idle time at all, the connection kept open. */
    KEEP_ALIVE_TIMEOUT_0(RawHttpPeer.Behaviour.ANNOUNCED_NO_IDLE),
    /** An HTTP/1.0 response without keep-alive, then the peer closes. */
    HTTP_1_0(RawHttpPeer.Behaviour.HTTP_1_0),
    /**
     * An HTTP/1.1 response with neither length nor chunking and no {@code Connection} header: its
     * body ends at the peer's close, which follows it.
     */
    BODY_ENDS_AT_CLOSE(RawHttpPeer.Behaviour.CLOSE_DELIMITED);

    final RawHttpPeer.Behaviour behaviour;

    Announcing(RawHttpPeer.Behaviour behaviour) {
      this.behaviour = behaviour;
    }
  }

  @ParameterizedTest
  @EnumSource(Announcing.class)
  void aPooledConnectionWhosePeerAnnouncedItsEndIsHeardAsPeerAnnounced(Announcing peerSays)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(peerSays.behaviour)) {
      Heard heard = new Heard();
      try (FaultClient client = client(pooled().build(), heard.accounting)) {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        // A client may close the connection at once or keep it, retired, until its next reuse
        // check or its shutdown: either way the close is the peer's announcement's.
      }
      CloseEvent event = heard.first();
      assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.PEER_ANNOUNCED);
      assertThat(event.requests()).as("%s", event).isEqualTo(1);
      assertNoClientTimeWait(peer);
    }
  }

  @Test
  void aPooledConnectionWhoseRequestAskedToCloseIsHeardAsCallerAsked() throws Exception {
    // The caller's own Connection: close, on a request that was not the connection's last; the
    // peer answers without one and keeps the connection open.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.IGNORE_CONNECTION_CLOSE)) {
      Heard heard = new Heard();
      try (FaultClient client = client(pooled().build(), heard.accounting)) {
        assertThat(BoundedCalls.within(CALL_BOUND, () -> client.exchange("GET", uri(peer),
            Map.of("Connection", "close"), null).status())).isEqualTo(200);
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.CALLER_ASKED);
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.RESET);
        assertThat(event.requests()).as("%s", event).isEqualTo(1);
      }
      assertNoClientTimeWait(peer);
    }
  }

  static Stream<Arguments> peerIdleCloses() {
    return Stream.of(
        Arguments.of(RawHttpPeer.Behaviour.IDLE_CLOSE, 200L),
        Arguments.of(RawHttpPeer.Behaviour.IDLE_CLOSE, 50L),
        Arguments.of(RawHttpPeer.Behaviour.IDLE_RESET, 200L));
  }

  /**
   * The peer closes (FIN) or resets (as balancers set to reset idle connections do) after 200 ms
   * idle without saying so, or closes 50 ms after its response (sooner than any idle timeout is
   * learned: still its close of an idle connection); the client sends again after 900 ms. Counted
   * as closed idle by the peer, whichever way it closed (before, Reactor Netty took the reset for
   * a failed exchange).
   */
  @ParameterizedTest(name = "{0} after {1} ms idle")
  @MethodSource("peerIdleCloses")
  void aPooledConnectionThePeerClosedWhileIdleIsHeardAsPeerClosedIdle(
      RawHttpPeer.Behaviour peerCloses, long peerIdleMillis) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(peerCloses, Duration.ofMillis(peerIdleMillis), false)) {
      Heard heard = new Heard();
      try (FaultClient client = client(pooled().build(), heard.accounting)) {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        Thread.sleep(PooledKeepAlive.DEFAULT_STALE_CHECK_AFTER_IDLE.plusMillis(400).toMillis());
        assertThat(client.get(uri(peer))).isEqualTo(200);
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.PEER_CLOSED_IDLE);
        assertThat(event.requests()).as("%s", event).isEqualTo(1);
        assertThat(event.mode()).as("%s", event).isNotEqualTo(CloseEvent.Mode.LOCALLY_FIRST);
        assertThat(heard.accounting.snapshot().closedIdleByPeer()).as("%s", heard.accounting).isEqualTo(1);
      }
      assertNoClientTimeWait(peer);
    }
  }

  /**
   * A peer that closes a pooled connection as the next request reaches it, unanswered (the
   * stale-connection race, or a balancer dropping it): the peer's close of a connection the
   * client found idle, not the pool's eviction (before, the async HttpClient counted it as
   * {@code IDLE_EVICTION}).
   */
  @ParameterizedTest(name = "the connection's last request by its cap: {0}")
  @ValueSource(booleans = {false, true})
  void aPooledConnectionThePeerClosedAsTheNextRequestReachedItIsHeardAsPeerClosedIdle(
      boolean capped) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST)) {
      Heard heard = new Heard();
      // Capped at two, the second request is the connection's last (REQUEST_CAP, decided as it
      // went out): the peer's close before its answer is still the peer's (before session 46,
      // EXCHANGE_ABORTED on all four clients).
      PooledKeepAlive strategy = capped ? pooled().maxRequestsPerConnection(2).build() : pooled().build();
      try (FaultClient client = client(strategy, heard.accounting)) {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        assertThat(client.get(uri(peer))).as("answered on a new connection").isEqualTo(200);
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.PEER_CLOSED_IDLE);
        assertThat(event.mode()).as("%s", event).isNotEqualTo(CloseEvent.Mode.LOCALLY_FIRST);
      }
      assertNoClientTimeWait(peer);
    }
  }

  /**
   * A peer that closes a fresh connection on its first request, unanswered (a back end that died
   * as it came): the exchange was cut, whatever the strategy; no connection sat idle, so it is not
   * the peer's close of an idle one.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("everyStrategy")
  void aFreshConnectionThePeerClosedBeforeAnsweringItsFirstRequestIsHeardAsExchangeAborted(
      CloseStrategy strategy) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_REQUEST)) {
      Heard heard = new Heard();
      try (FaultClient client = client(strategy, heard.accounting)) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.get(uri(peer)))
            .isNotInstanceOf(java.util.concurrent.TimeoutException.class); // unanswered, not the bound
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.EXCHANGE_ABORTED);
        assertThat(event.requests()).as("%s", event).isIn(1L, -1L);
        assertThat(event.mode()).as("%s", event).isNotEqualTo(CloseEvent.Mode.LOCALLY_FIRST);
      }
      assertNoClientTimeWait(peer);
    }
  }

  /**
   * A redirect under server close, its FIN 200 ms after the {@code 302} and its short body: each
   * connection closes as the strategy's, none first and none as a cut FIN wait; the last
   * exchange's (read whole by the caller) after the peer's FIN. Reactor Netty does not follow
   * redirects by default (its call ends with the 302); the others do. Before, the async HttpClient
   * reset the hop's connection during its FIN wait and counted a FIN-wait abort (HttpClient asks
   * whether a connection whose body it discards is still open, and a FIN wait answered no). OkHttp
   * resets the hop at once by design: it discards the redirect's body unread, as a caller who
   * closes a body unread, whose close never waits (OkHttp's CancelAndTimeoutTest).
   */
  @Test
  void aRedirectUnderServerCloseClosesEachConnectionAsTheStrategysWithoutAnAbortedFinWait()
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.REDIRECT, Duration.ofMillis(200), false)) {
      Heard heard = new Heard();
      try (FaultClient client = client(CloseStrategy.serverClose(), heard.accounting)) {
        int status = client.get(uri(peer));
        assertThat(status).isIn(200, 302);
        int connections = status == 200 ? 2 : 1;
        assertThat(Leaks.await(() -> heard.events.size() >= connections, EVENT_BOUND))
            .as("%s", heard.accounting).isTrue();
        assertThat(peer.accepted()).isEqualTo(connections);
        for (CloseEvent event : heard.events) {
          assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.STRATEGY);
          assertThat(event.mode()).as("%s", event).isNotEqualTo(CloseEvent.Mode.LOCALLY_FIRST);
        }
        assertThat(heard.events).as("the last exchange's close").last()
            .extracting(CloseEvent::mode).isEqualTo(CloseEvent.Mode.AFTER_PEER_FIN);
        assertThat(heard.accounting.snapshot().finWaitAborts()).as("%s", heard.accounting).isZero();
      }
      assertNoClientTimeWait(peer);
    }
  }

  /**
   * A response without a body (to a HEAD) ends its exchange at its head: under server close and
   * reset its connection's close is the strategy's, not a cut exchange.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("serverCloseAndReset")
  void aConnectionWhoseResponseHadNoBodyIsHeardAsTheStrategy(CloseStrategy strategy) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.CLOSE_LATE, Duration.ofMillis(100), false)) {
      Heard heard = new Heard();
      try (FaultClient client = client(strategy, heard.accounting)) {
        assertThat(client.exchange("HEAD", uri(peer), Map.of(), null).status()).isEqualTo(200);
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.STRATEGY);
      }
      assertNoClientTimeWait(peer);
    }
  }

  static Stream<CloseStrategy> serverCloseAndReset() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset());
  }

  static Stream<CloseStrategy> everyStrategy() {
    return Stream.of(CloseStrategy.serverClose(), CloseStrategy.reset(), pooled().build());
  }

  /**
   * A call cancelled while its response's body stalls: its connection ends with the exchange cut,
   * whatever the strategy (before, the async HttpClient counted a reset or server close's as the
   * strategy's own close: HttpClient discards the connection past the adapter's decorator).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("everyStrategy")
  void aConnectionWhoseCallWasCancelledMidBodyIsHeardAsExchangeAborted(CloseStrategy strategy)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.STALL_MID_BODY)) {
      Heard heard = new Heard();
      try (FaultClient client = client(strategy, heard.accounting)) {
        FaultClient.InFlight call = client.start(uri(peer));
        assertThat(Leaks.await(() -> peer.requests() == 1, CALL_BOUND)).isTrue();
        Thread.sleep(200); // the head and half the body are on their way, then the peer stalls
        call.cancel();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> call.await(CALL_BOUND))
            .isNotInstanceOf(java.util.concurrent.TimeoutException.class); // its failure, not the bound's
        CloseEvent event = heard.first();
        assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.EXCHANGE_ABORTED);
        assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.RESET);
      }
      assertNoClientTimeWait(peer);
    }
  }

  @Test
  void aPooledConnectionOpenWhenTheClientShutsDownIsHeardAsShutdown() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      Heard heard = new Heard();
      FaultClient client = client(pooled().build(), heard.accounting);
      try {
        assertThat(client.get(uri(peer))).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        assertThat(heard.events).as("nothing closed before the shutdown").isEmpty();
      } finally {
        client.close();
      }
      CloseEvent event = heard.first();
      assertThat(event.reason()).as("%s", event).isEqualTo(CloseEvent.Reason.SHUTDOWN);
      assertThat(event.requests()).as("%s", event).isEqualTo(1);
      assertThat(event.mode()).as("%s", event).isEqualTo(CloseEvent.Mode.RESET);
      assertNoClientTimeWait(peer);
    }
  }

  /** The adapter's client, each call bounded by {@link #CALL_BOUND}. */
  private FaultClient client(CloseStrategy strategy, CloseAccounting accounting) throws Exception {
    return BoundedCalls.bounded(newClient(strategy, accounting), CALL_BOUND);
  }

  private static PooledKeepAlive.Builder pooled() {
    return PooledKeepAlive.builder().maxTotal(4).retirement(Retirement.RESET);
  }

  private static URI uri(RawHttpPeer peer) {
    return URI.create("http://127.0.0.1:" + peer.port() + "/events");
  }

  private static void assertNoClientTimeWait(RawHttpPeer peer) {
    KernelTcp.awaitClientSettled(peer.port(), SETTLE);
    assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
  }

  /** The events one accounting's listener heard, in order. */
  private static final class Heard implements CloseListener {
    final CloseAccounting accounting = new CloseAccounting();
    final List<CloseEvent> events = new CopyOnWriteArrayList<>();

    Heard() {
      accounting.addListener(this);
    }

    @Override
    public void closed(CloseEvent event) {
      events.add(event);
    }

    /** The first close heard, waiting at most {@link #EVENT_BOUND} for it. */
    CloseEvent first() throws InterruptedException {
      long deadline = System.nanoTime() + EVENT_BOUND.toNanos();
      while (events.isEmpty() && deadline - System.nanoTime() > 0) {
        Thread.sleep(10);
      }
      assertThat(events).as("a close heard within %s (%s)", EVENT_BOUND, accounting).isNotEmpty();
      return events.get(0);
    }
  }
}
