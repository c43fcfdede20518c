package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How connections end besides the contract's load: the request cap counted exactly, idle eviction,
 * lifetime, shutdown, and reset close with a large body. TIME_WAIT is counted for exactly this
 * test's connections (their four-tuples).
 */
class PooledLifecycleTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);

  private WireMockServer server;
  private OkHttpClient client;
  private final ClientPorts ports = new ClientPorts();
  private final CloseAccounting accounting = new CloseAccounting();

  @BeforeEach
  void start() {
    KernelTcp.assumeReadable();
    server = TestServers.startWireMock();
  }

  @AfterEach
  void stop() {
    if (client != null) {
      TimeWaitOkHttp.shutdown(client);
    }
    server.stop();
  }

  private OkHttpClient configure(CloseStrategy strategy) {
    client = TimeWaitOkHttp.configure(OkHttpContractClient.trustingBuilder().eventListener(ports),
        strategy, accounting).build();
    return client;
  }

  private static void awaitAllClosed(CloseAccounting accounting, Duration bound) throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    while (accounting.snapshot().open() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void theRequestCapIsExactOverHttp11(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.AWAIT_CLIENT_CLOSE, Duration.ZERO, tls)) {
      configure(PooledKeepAlive.builder().maxTotal(1).maxRequestsPerConnection(7).build());
      String url = (tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/";
      for (int i = 0; i < 70; i++) {
        assertThat(TestServers.fetch(client, url).code()).isEqualTo(200);
      }
      TimeWaitOkHttp.shutdown(client);
      awaitAllClosed(accounting, SETTLE);
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(peer.requests()).isEqualTo(70);
      assertThat(peer.accepted()).isEqualTo(10);
      CloseStats stats = accounting.snapshot();
      assertThat(stats.connectionsOpened()).isEqualTo(10);
      assertThat(stats.closedByReset()).isEqualTo(10);
      assertThat(ports.timeWait()).isZero();
      assertThat(ports.serverTimeWait()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(Retirement.class)
  void idleEvictionClosesEveryConnectionWithNoTimeWait(Retirement retirement) throws Exception {
    configure(PooledKeepAlive.builder().maxTotal(4).idleTimeout(Duration.ofMillis(200))
        .retirement(retirement).build());
    assertThat(TestServers.load(client, TestServers.url(server, true, "/hello"), 40, 4, 60)).isEqualTo(40);

    awaitAllClosed(accounting, SETTLE); // no shutdown: the pool's own eviction
    KernelTcp.awaitClientSettled(server.httpsPort(), SETTLE);

    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).isBetween(1L, 4L);
    assertThat(stats.open()).isZero();
    assertThat(stats.closedByReset()).isEqualTo(stats.connectionsOpened());
    assertThat(stats.finWaitTimeouts()).isZero();
    assertThat(ports.timeWait()).isZero();
    assertThat(ports.serverTimeWait()).isZero();
  }

  @Test
  void aConnectionPastItsLifetimeRetiresWithItsNextRequest() throws Exception {
    configure(PooledKeepAlive.builder().maxTotal(1).maxLifetime(Duration.ofMillis(100))
        .retirement(Retirement.SERVER_CLOSE).build());
    String url = TestServers.url(server, false, "/hello");
    KernelCounters before = KernelCounters.read();
    for (int i = 0; i < 6; i++) {
      assertThat(TestServers.fetch(client, url).code()).isEqualTo(200);
      if (i % 2 == 0) {
        Thread.sleep(150); // the connection outlives its 100 ms: the next request is its last
      }
    }
    TimeWaitOkHttp.shutdown(client);
    KernelTcp.awaitClientSettled(server.port(), SETTLE);

    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).isEqualTo(3);
    assertThat(stats.closedAfterPeerFin()).isEqualTo(3);
    assertThat(ports.timeWait()).isZero();
    assertThat(ports.awaitServerTimeWait(3, SETTLE)).isBetween(3 - KernelTcp.strayResetsSince(before), 3);
  }

  @ParameterizedTest
  @EnumSource(Retirement.class)
  void shutdownClosesTheIdleConnectionsAtOnceWithNoClientTimeWait(Retirement retirement) throws Exception {
    configure(PooledKeepAlive.builder().maxTotal(4).retirement(retirement).build());
    assertThat(TestServers.load(client, TestServers.url(server, false, "/hello"), 50, 4, 60)).isEqualTo(50);
    assertThat(accounting.snapshot().open()).isPositive();

    TimeWaitOkHttp.shutdown(client);
    KernelTcp.awaitClientSettled(server.port(), SETTLE);

    CloseStats stats = accounting.snapshot();
    assertThat(stats.open()).isZero();
    assertThat(stats.closedByReset()).isEqualTo(stats.connectionsOpened());
    assertThat(client.dispatcher().executorService().isShutdown()).isTrue();
    assertThat(ports.timeWait()).isZero();
    assertThat(ports.serverTimeWait()).isZero();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void resetCloseResetsOnlyAfterTheWholeResponseWasRead(boolean tls) throws Exception {
    configure(CloseStrategy.reset());
    String url = TestServers.url(server, tls, "/big");
    for (int i = 0; i < 20; i++) {
      try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
        assertThat(response.body().bytes()).hasSize(TestServers.BIG);
      }
    }
    KernelTcp.awaitClientSettled(TestServers.port(server, tls), SETTLE);

    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).isEqualTo(20);
    assertThat(stats.closedByReset()).isEqualTo(20);
    assertThat(ports.timeWait()).isZero();
    assertThat(ports.serverTimeWait()).isZero();
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void serverCloseWithALargeBodyLeavesTheTimeWaitOnTheServer(boolean tls) throws Exception {
    configure(CloseStrategy.serverClose());
    String url = TestServers.url(server, tls, "/big");
    KernelCounters before = KernelCounters.read();
    long start = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
        assertThat(response.body().bytes()).hasSize(TestServers.BIG);
      }
    }
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(30);
    KernelTcp.awaitClientSettled(TestServers.port(server, tls), SETTLE);

    CloseStats stats = accounting.snapshot();
    assertThat(stats.closedAfterPeerFin()).isEqualTo(20);
    assertThat(stats.finWaitTimeouts()).isZero();
    assertThat(ports.timeWait()).isZero();
    assertThat(ports.awaitServerTimeWait(20, SETTLE)).isBetween(20 - KernelTcp.strayResetsSince(before), 20);
  }
}
