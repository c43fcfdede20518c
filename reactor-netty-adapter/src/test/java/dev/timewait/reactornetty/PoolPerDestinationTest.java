package dev.timewait.reactornetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionPoolMetrics;
import reactor.netty.resources.ConnectionProvider;

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
