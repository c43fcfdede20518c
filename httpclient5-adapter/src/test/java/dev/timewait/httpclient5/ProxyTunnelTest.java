package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * HTTPS through an HTTP proxy: HttpClient opens a tunnel with {@code CONNECT}, on the connection
 * the adapter opened, then TLS and the request go through it. The {@code CONNECT} is not one of
 * the connection's exchanges: it is neither asked to close nor armed, and the proxy's 200 keeps
 * the connection (before the fix, the classic client's server close swallowed the TLS handshake,
 * and the async client closed the tunnel, under reset and server close). The client keeps no
 * TIME_WAIT towards the proxy.
 */
class ProxyTunnelTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private static final int REQUESTS = 3;

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  static Stream<Arguments> clientsAndStrategies() {
    return Stream.of(Flavor.values()).flatMap(flavor -> Stream.of(
        CloseStrategy.serverClose(), CloseStrategy.reset(), PooledKeepAlive.builder().maxTotal(4).build())
        .map(strategy -> Arguments.of(flavor, strategy)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("clientsAndStrategies")
  void httpsThroughAnHttpProxyTunnelWorksAndLeavesNoClientTimeWait(Flavor flavor, CloseStrategy strategy)
      throws Exception {
    try (RawHttpPeer target = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE, Duration.ZERO, true);
         // On a fresh port: client TIME_WAIT left towards a reused port would count as this test's.
         ConnectProxy proxy = KernelTcp.startOnFreshPorts(ConnectProxy::new, ConnectProxy::close, ConnectProxy::port)) {
      String uri = "https://localhost:" + target.port() + "/tunnelled";
      HttpHost proxyHost = new HttpHost("127.0.0.1", proxy.port());
      CloseAccounting accounting = new CloseAccounting();
      if (flavor == Flavor.CLASSIC) {
        try (CloseableHttpClient client = TimeWaitHttpClient5.configure(
            HttpClients.custom().setProxy(proxyHost), strategy, accounting, Flavor.options()).build()) {
          for (int i = 0; i < REQUESTS; i++) {
            int code = client.execute(new HttpGet(uri), response -> {
              EntityUtils.consume(response.getEntity());
              return response.getCode();
            });
            assertThat(code).as("request %d", i).isEqualTo(200);
          }
        }
      } else {
        CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(
            HttpAsyncClients.custom().setProxy(proxyHost), strategy, accounting, Flavor.options()).build();
        client.start();
        try {
          for (int i = 0; i < REQUESTS; i++) {
            assertThat(client.execute(SimpleRequestBuilder.get(uri).build(), null).get(10, TimeUnit.SECONDS)
                .getCode()).as("request %d", i).isEqualTo(200);
          }
        } finally {
          client.close(CloseMode.GRACEFUL);
        }
      }
      assertThat(target.requests()).isEqualTo(REQUESTS);
      assertThat(proxy.tunnels()).isBetween(1, REQUESTS);
      KernelTcp.awaitClientSettled(proxy.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(proxy.port())).as("client TIME_WAIT towards the proxy; %s",
          accounting.snapshot()).isZero();
    }
  }

  /**
   * HttpCore counts the CONNECT among the connection's requests: the classic client took a
   * tunnel's first request for its second (its cap one short, and the request a reuse that the
   * unanswered retry may send again). A cap of 2 takes 2 tunnels for 4 requests.
   */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.EnumSource(Flavor.class)
  void aTunnelsFirstRequestIsItsFirstExchangeNotTheConnect(Flavor flavor) throws Exception {
    try (RawHttpPeer target = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE, Duration.ZERO, true);
         ConnectProxy proxy = KernelTcp.startOnFreshPorts(ConnectProxy::new, ConnectProxy::close, ConnectProxy::port)) {
      String uri = "https://localhost:" + target.port() + "/tunnelled";
      HttpHost proxyHost = new HttpHost("127.0.0.1", proxy.port());
      PooledKeepAlive strategy = PooledKeepAlive.builder().maxTotal(1).maxPerRoute(1)
          .maxRequestsPerConnection(2).build();
      CloseAccounting accounting = new CloseAccounting();
      int requests = 4;
      if (flavor == Flavor.CLASSIC) {
        try (CloseableHttpClient client = TimeWaitHttpClient5.configure(
            HttpClients.custom().setProxy(proxyHost), strategy, accounting, Flavor.options()).build()) {
          for (int i = 0; i < requests; i++) {
            int code = client.execute(new HttpGet(uri), response -> {
              EntityUtils.consume(response.getEntity());
              return response.getCode();
            });
            assertThat(code).isEqualTo(200);
          }
        }
      } else {
        CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(
            HttpAsyncClients.custom().setProxy(proxyHost), strategy, accounting, Flavor.options()).build();
        client.start();
        try {
          for (int i = 0; i < requests; i++) {
            assertThat(client.execute(SimpleRequestBuilder.get(uri).build(), null).get(10, TimeUnit.SECONDS)
                .getCode()).isEqualTo(200);
            Thread.sleep(50); // back in the pool before the next
          }
        } finally {
          client.close(CloseMode.GRACEFUL);
        }
      }
      assertThat(target.requests()).isEqualTo(requests);
      assertThat(proxy.tunnels()).as("tunnels for %d requests, 2 each; %s", requests,
          accounting.snapshot()).isEqualTo(2);
      KernelTcp.awaitClientSettled(proxy.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(proxy.port())).isZero();
    }
  }
}
