package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseStrategy;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.net.URI;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.Test;

/**
 * Replacing what {@code configure} set, after {@code configure}, would silently bypass the
 * strategy: the adapter fails the request instead.
 */
class MisconfigurationTest {

  @Test
  void classicFailsLoudlyWhenTheConnectionManagerIsReplacedAfterConfigure() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE);
        CloseableHttpClient client = TimeWaitHttpClient5
            .configure(HttpClients.custom(), CloseStrategy.reset())
            .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create().build())
            .build()) {
      URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/");
      assertThatThrownBy(() -> client.execute(new HttpGet(uri), r -> {
        EntityUtils.consume(r.getEntity());
        return r.getCode();
      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("was not opened by the socket factory that TimeWaitHttpClient5.configure installed");
      assertThat(peer.requests()).isZero();
    }
  }

  /**
   * A cancel or the client's close that reaches a connection after HttpClient checked it and
   * before its first request leaves a closed connection, which has no socket left to tell whose it
   * was: the call fails as on any closed connection (an IOException), not as a misconfiguration
   * (session 46's audit: an IllegalStateException that blamed the user's setup).
   */
  @Test
  void aConnectionClosedBeforeItsFirstRequestFailsTheCallAsClosedNotAsAMisconfiguration() {
    ClassicRequestExecutor executor = new ClassicRequestExecutor(CloseStrategy.pooled(),
        dev.timewait.TimeWaitSocketFactory.create(CloseStrategy.pooled()));
    org.apache.hc.client5.http.impl.io.DefaultManagedHttpClientConnection closed =
        new org.apache.hc.client5.http.impl.io.DefaultManagedHttpClientConnection("closed-1");
    assertThat(closed.isOpen()).isFalse();
    assertThatThrownBy(() -> executor.execute(
        new org.apache.hc.core5.http.message.BasicClassicHttpRequest("GET", "/"), closed,
        org.apache.hc.client5.http.protocol.HttpClientContext.create()))
        .isInstanceOf(org.apache.hc.core5.http.ConnectionClosedException.class);
  }

  @Test
  void asyncFailsLoudlyWhenTheSessionDecoratorIsReplacedAfterConfigure() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE);
        CloseableHttpAsyncClient client = TimeWaitHttpClient5
            .configure(HttpAsyncClients.custom(), CloseStrategy.reset())
            .setIoSessionDecorator(session -> session)
            .setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create().build())
            .build()) {
      client.start();
      URI uri = URI.create("http://127.0.0.1:" + peer.port() + "/");
      assertThatThrownBy(() -> client.execute(SimpleRequestBuilder.get(uri).build(), null)
              .get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("was not opened through the I/O session decorator");
      assertThat(peer.requests()).isZero();
    }
  }
}
