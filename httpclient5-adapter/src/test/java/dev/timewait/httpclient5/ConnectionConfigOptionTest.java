package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The connection manager belongs to timewait, so HttpClient's {@link ConnectionConfig} reaches it
 * through {@link HttpClient5Options#connectionConfig()}: its socket timeout must apply under every
 * strategy, on both clients. (HttpClient's default leaves the socket timeout unset: a stalled
 * response would hang for as long as the peer holds it.)
 */
class ConnectionConfigOptionTest {
  private static final HttpClient5Options SHORT_SOCKET_TIMEOUT = HttpClient5Options.builder()
      .connectionConfig(ConnectionConfig.custom().setSocketTimeout(Timeout.ofMilliseconds(300)).build())
      .build();

  static Stream<CloseStrategy> strategies() {
    return Stream.of(CloseStrategy.pooled(), CloseStrategy.serverClose(), CloseStrategy.reset());
  }

  private static URI uri(RawHttpPeer peer) {
    return URI.create("http://127.0.0.1:" + peer.port() + "/");
  }

  private static boolean timedOut(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException) {
        return true;
      }
    }
    return false;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void classicClientTimesOutAStalledResponseWithTheOptionsSocketTimeout(CloseStrategy strategy) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.STALL_MID_BODY);
        CloseableHttpClient client = TimeWaitHttpClient5
            .configure(HttpClients.custom().disableAutomaticRetries(), strategy, new CloseAccounting(),
                SHORT_SOCKET_TIMEOUT)
            .build()) {
      assertThatThrownBy(() -> client.execute(new HttpGet(uri(peer)), r -> EntityUtils.toByteArray(r.getEntity())))
          .matches(ConnectionConfigOptionTest::timedOut, "a SocketTimeoutException");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void asyncClientTimesOutAStalledResponseWithTheOptionsSocketTimeout(CloseStrategy strategy) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.STALL_MID_BODY);
        CloseableHttpAsyncClient client = TimeWaitHttpClient5
            .configure(HttpAsyncClients.custom(), strategy, new CloseAccounting(), SHORT_SOCKET_TIMEOUT)
            .build()) {
      client.start();
      // The future's own bound is far above the socket timeout: it fails by the timeout, never by this.
      assertThatThrownBy(() -> client.execute(SimpleRequestBuilder.get(uri(peer)).build(), null)
          .get(20, TimeUnit.SECONDS))
          .matches(ConnectionConfigOptionTest::timedOut, "a SocketTimeoutException");
    }
  }

  @Test
  void connectionConfigIsRequiredAndKeptByToBuilder() {
    ConnectionConfig config = ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(2)).build();
    HttpClient5Options options = HttpClient5Options.builder().connectionConfig(config).build();

    assertThat(options.connectionConfig()).isSameAs(config);
    assertThat(options.toBuilder().build()).isEqualTo(options);
    assertThat(HttpClient5Options.defaults().connectionConfig()).isSameAs(HttpClient5Options.DEFAULT_CONNECTION_CONFIG);
    assertThatThrownBy(() -> HttpClient5Options.builder().connectionConfig(null))
        .isInstanceOf(NullPointerException.class).hasMessage("connectionConfig cannot be null");
  }
}
