package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.support.BasicRequestBuilder;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.api.Test;

/**
 * An exec interceptor of the user's, added last (after the adapter's), that sends a copy of the
 * request (as signing interceptors do): the adapter does not see its attempt go out, and a POST
 * whose reused connection the peer closed after reading it looked unsent and went out twice. The
 * peer drops the second request of each connection unanswered (its FIN).
 */
class CopiedRequestRetryTest {
  private static final long BOUND_SECONDS = 10;

  @Test
  void aPostSentAsACopyByTheUsersExecInterceptorIsNeverSentTwice() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      CloseAccounting accounting = new CloseAccounting();
      CloseableHttpAsyncClient client = copyingClient(accounting);
      String url = "http://127.0.0.1:" + peer.port() + "/order";
      try {
        assertThat(post(client, url).getCode()).isEqualTo(200);
        Thread.sleep(100); // back in the pool
        assertThatThrownBy(() -> post(client, url)).as("HTTP does not let a client send a POST again")
            .isInstanceOf(Exception.class)
            .isNotInstanceOf(java.util.concurrent.TimeoutException.class);
        Thread.sleep(300); // a second send would come at once
        assertThat(peer.requests()).as("the second POST reached the peer once; %s", accounting.snapshot())
            .isEqualTo(2);
        assertThat(accounting.snapshot().staleRetries()).isZero();
      } finally {
        client.close(CloseMode.GRACEFUL);
      }
    }
  }

  @Test
  void aGetSentAsACopyIsStillSentOnceMoreWhenItsReusedConnectionFailedUnanswered() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      CloseAccounting accounting = new CloseAccounting();
      CloseableHttpAsyncClient client = copyingClient(accounting);
      String url = "http://127.0.0.1:" + peer.port() + "/doc";
      try {
        assertThat(get(client, url).getCode()).isEqualTo(200);
        Thread.sleep(100); // back in the pool
        assertThat(get(client, url).getCode()).as("dropped, then answered on a fresh connection").isEqualTo(200);
        assertThat(peer.requests()).isEqualTo(3);
        assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isEqualTo(1);
      } finally {
        client.close(CloseMode.GRACEFUL);
      }
    }
  }

  /** A pooled client whose exec interceptor, added last, sends a copy of each request. */
  private static CloseableHttpAsyncClient copyingClient(CloseAccounting accounting) {
    CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(HttpAsyncClients.custom(),
            PooledKeepAlive.builder().maxTotal(4).build(), accounting, Flavor.options())
        .addExecInterceptorLast("copying", (request, entity, scope, chain, callback) ->
            chain.proceed(BasicRequestBuilder.copy(request).build(), entity, scope, callback))
        .disableAutomaticRetries()
        .build();
    client.start();
    return client;
  }

  private static SimpleHttpResponse get(CloseableHttpAsyncClient client, String url) throws Exception {
    return client.execute(SimpleRequestBuilder.get(url).build(), null).get(BOUND_SECONDS, TimeUnit.SECONDS);
  }

  private static SimpleHttpResponse post(CloseableHttpAsyncClient client, String url) throws Exception {
    return client.execute(SimpleRequestBuilder.post(url).setBody("order", ContentType.TEXT_PLAIN).build(), null)
        .get(BOUND_SECONDS, TimeUnit.SECONDS);
  }
}
