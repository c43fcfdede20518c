package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import io.netty.channel.epoll.Epoll;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.LoopResources;

/**
 * A pooled connection whose peer closed it while idle is not handed out for a request even when
 * the event loop has not read the peer's FIN yet: the pool's check reads the kernel's TCP state
 * (Linux epoll transport). Behind HAProxy on a loaded machine the first POST after a pause went
 * into such a connection and was lost (the lab's "POST crossed the idle close"). Here the one
 * event loop is held busy while the peer closes the idle connection, and a POST is sent then;
 * Reactor Netty's own retry is off.
 */
class BusyEventLoopStaleConnectionTest {
  /** The peer's idle timeout, past the pool's stale-check threshold. */
  private static final Duration PEER_IDLE =
      PooledKeepAlive.DEFAULT_STALE_CHECK_AFTER_IDLE.plusMillis(100);
  private static final Duration BOUND = Duration.ofSeconds(10);

  static Stream<Arguments> cases() {
    return Stream.of(Retirement.values())
        .flatMap(retirement -> Stream.of(Arguments.of(retirement, false), Arguments.of(retirement, true)));
  }

  @ParameterizedTest(name = "{0}, tls={1}")
  @MethodSource("cases")
  void aPostAfterThePeersIdleCloseGoesOnANewConnectionWhileTheEventLoopIsBusy(Retirement retirement,
      boolean tls) throws Exception {
    KernelTcp.assumeReadable();
    assumeThat(Epoll.isAvailable())
        .as("Netty's epoll transport (Linux): the check reads TCP_INFO through it").isTrue();
    PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(1).maxPerRoute(1)
        .retirement(retirement).build();
    CloseAccounting accounting = new CloseAccounting();
    LoopResources loop = LoopResources.create("busy-loop", 1, true);
    HttpClient raw = HttpClient.create(TimeWaitReactorNetty.connectionProvider("busy-loop", strategy))
        .runOn(loop).disableRetry(true).responseTimeout(BOUND);
    HttpClient client = TimeWaitReactorNetty.configure(
        tls ? ReactorNettyClient.trusting(raw) : raw, strategy, accounting);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, PEER_IDLE, tls)) {
      String uri = (tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/";
      assertThat(post(client, uri).block(BOUND)).isEqualTo(200);

      // Hold the only event loop, then let the peer close the idle connection: its FIN (after its
      // close_notify, over TLS) waits in the kernel (CLOSE_WAIT), unread by Netty.
      loop.onClient(true).next().execute(() -> {
        held.countDown();
        try {
          release.await(BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      assertThat(held.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      long deadline = System.nanoTime() + BOUND.toNanos();
      while (KernelTcp.client(TcpState.CLOSE_WAIT, peer.port()) < 1 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(KernelTcp.client(TcpState.CLOSE_WAIT, peer.port()))
          .as("the idle connection in CLOSE_WAIT, the peer's FIN unread").isEqualTo(1);

      // The acquire runs here, on the caller's thread, while the loop is still held.
      CompletableFuture<Integer> second = post(client, uri).toFuture();
      Thread.sleep(100);
      release.countDown();
      assertThat(second.get(BOUND.toMillis(), TimeUnit.MILLISECONDS))
          .as("the POST after the peer's idle close").isEqualTo(200);

      assertThat(peer.accepted()).as("connections the peer accepted").isEqualTo(2);
      assertThat(peer.requests()).as("requests the peer read").isEqualTo(2);
      TimeWaitReactorNetty.shutdown(client);
      KernelTcp.awaitClientSettled(peer.port(), BOUND);
      CloseStats stats = accounting.snapshot();
      assertThat(stats.closedIdleByPeer()).as("closed idle by the peer").isEqualTo(1);
      assertThat(stats.staleRetries()).as("no request sent twice").isZero();
      assertThat(accounting.peerIdleTimeouts().learned()).as("the peer's idle timeout, learned")
          .hasSize(1);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
    } finally {
      release.countDown();
      TimeWaitReactorNetty.shutdown(client);
      loop.disposeLater(Duration.ZERO, Duration.ofSeconds(2)).block(BOUND);
    }
  }

  /**
   * The FIN comes after the pool handed the connection out (still ESTABLISHED then) and before
   * the event loop writes the request: Netty's loop runs its queued tasks (the request) before it
   * reads again, so the request would go into the closed connection and fail, unanswered, with
   * Reactor Netty's own retry on too (tried: 3 of 3). The exchange handler reads the kernel's TCP
   * state before the request head goes out, holds the request back, and the attempt sends it once
   * more on a new connection: nothing of the first went out, so a POST may go again.
   */
  @ParameterizedTest(name = "{0}, tls={1}")
  @MethodSource("cases")
  void aPostWhoseConnectionThePeerClosesOnItsWayToTheEventLoopIsHeldBackAndSentOnANewConnection(
      Retirement retirement, boolean tls) throws Exception {
    KernelTcp.assumeReadable();
    assumeThat(Epoll.isAvailable())
        .as("Netty's epoll transport (Linux): the check reads TCP_INFO through it").isTrue();
    PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(1).maxPerRoute(1)
        .retirement(retirement).build();
    CloseAccounting accounting = new CloseAccounting();
    LoopResources loop = LoopResources.create("busy-loop", 1, true);
    HttpClient raw = HttpClient.create(TimeWaitReactorNetty.connectionProvider("busy-loop", strategy))
        .runOn(loop).disableRetry(true).responseTimeout(BOUND);
    HttpClient client = TimeWaitReactorNetty.configure(
        tls ? ReactorNettyClient.trusting(raw) : raw, strategy, accounting);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // The peer closes 1.5 s idle: the pool hands the connection out well before (ESTABLISHED, no
    // check), and the request reaches the loop well after.
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, Duration.ofMillis(1500), tls)) {
      String uri = (tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/";
      assertThat(post(client, uri).block(BOUND)).isEqualTo(200);
      Thread.sleep(200);
      loop.onClient(true).next().execute(() -> {
        held.countDown();
        try {
          release.await(BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      assertThat(held.await(BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      CompletableFuture<Integer> second = post(client, uri).toFuture(); // handed out now
      long deadline = System.nanoTime() + BOUND.toNanos();
      while (KernelTcp.client(TcpState.CLOSE_WAIT, peer.port()) < 1 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(KernelTcp.client(TcpState.CLOSE_WAIT, peer.port()))
          .as("the handed-out connection in CLOSE_WAIT, the peer's FIN unread").isEqualTo(1);
      release.countDown();
      assertThat(second.get(BOUND.toMillis(), TimeUnit.MILLISECONDS))
          .as("the POST after the peer's idle close").isEqualTo(200);

      assertThat(peer.accepted()).as("connections the peer accepted").isEqualTo(2);
      assertThat(peer.requests()).as("requests the peer read: the POST once").isEqualTo(2);
      TimeWaitReactorNetty.shutdown(client);
      KernelTcp.awaitClientSettled(peer.port(), BOUND);
      CloseStats stats = accounting.snapshot();
      assertThat(stats.closedIdleByPeer()).as("closed idle by the peer").isEqualTo(1);
      assertThat(stats.staleRetries()).as("attempts sent again: the one held back").isEqualTo(1);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("client TIME_WAIT").isZero();
    } finally {
      release.countDown();
      TimeWaitReactorNetty.shutdown(client);
      loop.disposeLater(Duration.ZERO, Duration.ofSeconds(2)).block(BOUND);
    }
  }

  private static Mono<Integer> post(HttpClient client, String uri) {
    // No body: the raw peer reads request heads only. A POST is never sent again, with or without.
    return client.post().uri(uri)
        .responseSingle((response, body) -> body.then(Mono.just(response.status().code())));
  }
}
