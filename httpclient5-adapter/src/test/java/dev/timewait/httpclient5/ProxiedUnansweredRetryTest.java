package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The async client's unanswered retry through an HTTP proxy without a tunnel (plain {@code http://}
 * targets), where HttpClient's protocol stage sends a copy of the request with the absolute URI:
 * the retry still knows that the request went out, and on a reused connection. The peer plays the
 * proxy and drops the second request of each connection unanswered.
 */
class ProxiedUnansweredRetryTest {
  private static final long BOUND_SECONDS = 10;
  private static final Duration BACK_IN_POOL = Duration.ofMillis(100);
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private static final String TARGET = "http://timewait.invalid/order";

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  @Test
  void aPostThroughAProxyDroppedUnansweredOnAReusedConnectionIsNeverSentTwice() throws Exception {
    try (RawHttpPeer proxy = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      CloseAccounting accounting = new CloseAccounting();
      CloseableHttpAsyncClient client = proxiedClient(proxy, accounting);
      try {
        assertThat(post(client).getCode()).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        assertThatThrownBy(() -> post(client)).as("HTTP does not let a client send a POST again")
            .isInstanceOf(Exception.class)
            .isNotInstanceOf(java.util.concurrent.TimeoutException.class);
        Thread.sleep(BACK_IN_POOL.toMillis() * 3); // a second send would come at once
        assertThat(proxy.requests()).as("the second POST reached the proxy once").isEqualTo(2);
        assertThat(proxy.requestLines()).allMatch(line -> line.startsWith("POST " + TARGET));
        assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isZero();
      } finally {
        client.close(CloseMode.GRACEFUL);
      }
      KernelTcp.awaitClientSettled(proxy.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(proxy.port())).isZero();
    }
  }

  @Test
  void aGetThroughAProxyDroppedUnansweredOnAReusedConnectionGoesOutOnceMore() throws Exception {
    try (RawHttpPeer proxy = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false)) {
      CloseAccounting accounting = new CloseAccounting();
      CloseableHttpAsyncClient client = proxiedClient(proxy, accounting);
      try {
        assertThat(get(client).getCode()).isEqualTo(200);
        Thread.sleep(BACK_IN_POOL.toMillis());
        assertThat(get(client).getCode()).as("dropped, then answered on a fresh connection").isEqualTo(200);
        assertThat(proxy.requests()).isEqualTo(3);
        assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isEqualTo(1);
      } finally {
        client.close(CloseMode.GRACEFUL);
      }
      KernelTcp.awaitClientSettled(proxy.port(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(proxy.port())).isZero();
    }
  }

  private static CloseableHttpAsyncClient proxiedClient(RawHttpPeer proxy, CloseAccounting accounting) {
    CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(
            HttpAsyncClients.custom().setProxy(new HttpHost("127.0.0.1", proxy.port())),
            PooledKeepAlive.builder().maxTotal(4).build(), accounting, Flavor.options())
        .disableAutomaticRetries()
        .build();
    client.start();
    return client;
  }

  private static SimpleHttpResponse post(CloseableHttpAsyncClient client) throws Exception {
    return client.execute(SimpleRequestBuilder.post(TARGET).setBody("order", ContentType.TEXT_PLAIN).build(),
        null).get(BOUND_SECONDS, TimeUnit.SECONDS);
  }

  private static SimpleHttpResponse get(CloseableHttpAsyncClient client) throws Exception {
    return client.execute(SimpleRequestBuilder.get(TARGET).build(), null).get(BOUND_SECONDS, TimeUnit.SECONDS);
  }
}
