package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.diagnostics.TcpState;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.lang.ref.WeakReference;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionPoolMetrics;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * Reactor Netty keeps a pool per remote address. A client that calls many hosts (webhooks) must
 * not keep one, and its background eviction task, for every host it ever called.
 */
class PoolPerDestinationTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @Test
  void aDestinationsPoolGoesOnceItHasHadNoConnectionForTheIdleTimeout() throws Exception {
    KernelTcp.assumeReadable();
    PooledKeepAlive strategy = PooledKeepAlive.builder().idleTimeout(Duration.ofMillis(300)).build();
    Pools pools = new Pools();
    ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("per-destination", strategy,
        builder -> builder.metrics(true, () -> pools));
    HttpClient client = TimeWaitReactorNetty.configure(HttpClient.create(provider), strategy);
    List<RawHttpPeer> peers = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        peers.add(RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE, Duration.ZERO, false));
      }
      for (RawHttpPeer peer : peers) {
        assertThat(get(client, peer)).isEqualTo("ok");
      }
      assertThat(pools.live).as("a pool per destination").hasSize(3);

      // Idle eviction closes the connections after 300 ms; the pools, empty for 300 ms more, go.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!pools.live.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(pools.live).as("pools left after their destinations went quiet").isEmpty();

      // A later call to one of them makes a new pool and is answered.
      assertThat(get(client, peers.get(0))).isEqualTo("ok");
      assertThat(pools.live).hasSize(1);
    } finally {
      TimeWaitReactorNetty.shutdown(client);
      for (RawHttpPeer peer : peers) {
        peer.close();
      }
    }
    for (RawHttpPeer peer : peers) {
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).as("port %d", peer.port()).isZero();
    }
  }

  @Test
  void aProviderShutDownAndDroppedIsCollected() throws Exception {
    KernelTcp.assumeReadable();
    PooledKeepAlive strategy = PooledKeepAlive.builder().idleTimeout(Duration.ofMillis(300)).build();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      WeakReference<ConnectionProvider> provider = useThenDrop(strategy, peer, true);
      assertCollected(provider);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @Test
  void aProviderDroppedWithoutShutdownIsCollectedOnceItsPoolsWentQuiet() throws Exception {
    KernelTcp.assumeReadable();
    PooledKeepAlive strategy = PooledKeepAlive.builder().idleTimeout(Duration.ofMillis(200)).build();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE)) {
      // Idle eviction resets the connection after 200 ms; the sweep disposes the pool, quiet for
      // 200 ms more, and with it the pool's eviction task, the last thing that held the provider.
      WeakReference<ConnectionProvider> provider = useThenDrop(strategy, peer, false);
      assertCollected(provider);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }

  @Test
  void requestsRacingTheSweepsDisposalOfTheirQuietPoolAreAllAnswered() throws Exception {
    KernelTcp.assumeReadable();
    // Reactor Netty looks a destination's pool up, then asks it for a connection: a disposal in
    // between fails the acquire ("Pool has been shut down") or leaves it waiting for ever. Its
    // own disposeInactivePoolsInBackground has that window. Here the sweep runs without pause
    // and each request comes as its pool has been quiet for about the idle timeout: without the
    // gate between subscriptions and disposals 3 of 300 requests failed (session 39).
    PooledKeepAlive strategy = PooledKeepAlive.builder().idleTimeout(Duration.ofMillis(10)).build();
    ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("swept", strategy);
    HttpClient client = TimeWaitReactorNetty.configure(HttpClient.create(provider), strategy);
    PoolSweep sweep = TimeWaitReactorNetty.sweep(provider);
    AtomicBoolean stop = new AtomicBoolean();
    Thread sweeping = new Thread(() -> {
      while (!stop.get()) {
        sweep.run();
      }
    }, "sweeping");
    List<String> failures = new ArrayList<>();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.CLOSE_AFTER_RESPONSE)) {
      sweeping.start();
      Random phase = new Random(39);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      int sent = 0;
      for (; sent < 300 && System.nanoTime() < deadline; sent++) {
        int i = sent;
        try {
          assertThat(get(client, peer)).isEqualTo("ok");
        } catch (RuntimeException e) {
          failures.add(i + ": " + e);
        }
        // Around the 20 ms after which a pool goes: one run finds it quiet for the idle timeout
        // (10 ms), the next disposes it an idle timeout later if no channel came meanwhile.
        Thread.sleep(17 + phase.nextInt(7));
      }
      stop.set(true);
      sweeping.join(10_000);
      assertThat(failures).as("requests failed of %d", sent).isEmpty();
      assertThat(sent).as("requests sent within 30 s").isGreaterThanOrEqualTo(100);
      TimeWaitReactorNetty.shutdown(client);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    } finally {
      stop.set(true);
      TimeWaitReactorNetty.shutdown(client);
    }
  }

  @Test
  void aQuietPoolIsNotDisposedWhileARequestOpensItsNextConnection() throws Exception {
    KernelTcp.assumeReadable();
    // The sweep counts a new connection at its channel's init, which runs on the event loop after
    // the request's subscription looked the pool up and asked it for the connection. Disposed in
    // between, the pool hands the connection over and destroys it after its exchange, and
    // requests queued behind it fail ("Pool has been shut down").
    PooledKeepAlive strategy = PooledKeepAlive.builder().build(); // idle timeout 30 s
    Pools pools = new Pools();
    ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("opening", strategy,
        builder -> builder.metrics(true, () -> pools));
    LoopResources loops = LoopResources.create("sweep-opening", 1, true);
    HttpClient client = TimeWaitReactorNetty.configure(HttpClient.create(provider).runOn(loops), strategy);
    PoolSweep sweep = TimeWaitReactorNetty.sweep(provider);
    CountDownLatch release = new CountDownLatch(1);
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.CLOSE_AFTER_RESPONSE)) {
      assertThat(get(client, peer)).isEqualTo("ok"); // the peer closes it: the address goes quiet
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (KernelTcp.clientConnections(TcpState.ESTABLISHED, peer.port()).size() > 0
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(pools.live).hasSize(1);
      loops.onClient(true).next().execute(() -> {
        try {
          release.await(10, TimeUnit.SECONDS); // holds the one event loop: no channel init
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      CompletableFuture<String> answer = client.get().uri("http://127.0.0.1:" + peer.port() + "/")
          .responseSingle((response, body) -> body.asString()).toFuture();
      // Runs as if the address had been quiet for its idle timeout: the first finds it quiet (the
      // request's channel is not initialised: the loop is held)...
      long idle = strategy.idleTimeout().toNanos();
      long start = System.nanoTime();
      sweep.runAt(start + idle + 1);
      assertThat(pools.live).as("the pool a request is opening a connection in").hasSize(1);
      release.countDown();
      assertThat(answer.get(10, TimeUnit.SECONDS)).isEqualTo("ok");
      // ...and the next, an idle timeout later, finds the request's channel came meanwhile.
      sweep.runAt(start + 2 * idle + 2);
      assertThat(pools.live).as("the pool a request opened a connection in").hasSize(1);
    } finally {
      release.countDown();
      TimeWaitReactorNetty.shutdown(client);
      loops.disposeLater().block(Duration.ofSeconds(10));
    }
  }

  /** Makes a provider and a client, sends one request, and drops both. */
  private static WeakReference<ConnectionProvider> useThenDrop(PooledKeepAlive strategy,
      RawHttpPeer peer, boolean shutdown) {
    ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("dropped", strategy);
    HttpClient client = TimeWaitReactorNetty.configure(HttpClient.create(provider), strategy);
    assertThat(get(client, peer)).isEqualTo("ok");
    if (shutdown) {
      TimeWaitReactorNetty.shutdown(client);
    }
    return new WeakReference<>(provider);
  }

  private static void assertCollected(WeakReference<ConnectionProvider> provider)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (provider.get() != null && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(50);
    }
    assertThat(provider.get()).as("the provider, dropped, after 10 s of GCs").isNull();
  }

  @Test
  void theCustomizerRunsFirstAndTheStrategysSettingsWin() {
    PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(12).maxPerRoute(6).build();
    ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("customized", strategy,
        builder -> builder.maxConnections(500).pendingAcquireTimeout(Duration.ofSeconds(3)));
    try {
      assertThat(provider.maxConnections()).isEqualTo(6);
    } finally {
      provider.dispose();
    }
    assertThatThrownBy(() -> TimeWaitReactorNetty.connectionProvider("x", strategy, null))
        .isInstanceOf(NullPointerException.class).hasMessage("customizer cannot be null");
    assertThat(TimeWaitReactorNetty.connectionProvider("x", CloseStrategy.reset(), builder -> {
      throw new AssertionError("no pool, no builder");
    })).isSameAs(ConnectionProvider.newConnection());
  }

  private static String get(HttpClient client, RawHttpPeer peer) {
    return client.get().uri("http://127.0.0.1:" + peer.port() + "/")
        .responseSingle((response, body) -> body.asString())
        .block(Duration.ofSeconds(10));
  }

  /** Reactor Netty's pool metrics hook: which remote addresses have a pool now. */
  private static final class Pools implements ConnectionProvider.MeterRegistrar {
    final Set<SocketAddress> live = ConcurrentHashMap.newKeySet();

    @Override
    public void registerMetrics(String poolName, String id, SocketAddress remoteAddress,
        ConnectionPoolMetrics metrics) {
      live.add(remoteAddress);
    }

    @Override
    public void deRegisterMetrics(String poolName, String id, SocketAddress remoteAddress) {
      live.remove(remoteAddress);
    }
  }
}
