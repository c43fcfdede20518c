package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.core5.io.CloseMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Closing the client resets its connections, among them one whose call waits for its response
 * head: that call fails, and is not the unanswered retry's to send again (the peer closed
 * nothing; a second send would go into the closing client). The peer holds the second request of
 * each connection unanswered. With a pool of one connection, a third call waits for it, queued,
 * as the client closes: it fails too, and is not sent either (session 43's audit said it was:
 * not reproduced, kept as a guard).
 */
class AsyncShutdownRetryTest {
  @ParameterizedTest(name = "a call queued behind it: {0}")
  @ValueSource(booleans = {false, true})
  void callsWaitingForTheirAnswerOrForAConnectionAsTheClientClosesAreNotSentAgain(boolean queued)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.HOLD_SECOND_REQUEST, Duration.ofSeconds(5), false)) {
      CloseAccounting accounting = new CloseAccounting();
      CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(HttpAsyncClients.custom(),
              PooledKeepAlive.builder().maxTotal(queued ? 1 : 4).build(), accounting, Flavor.options())
          .disableAutomaticRetries()
          .build();
      client.start();
      String url = "http://127.0.0.1:" + peer.port() + "/doc";
      try {
        assertThat(client.execute(SimpleRequestBuilder.get(url).build(), null).get(10, TimeUnit.SECONDS)
            .getCode()).isEqualTo(200);
        Thread.sleep(100); // back in the pool
        Future<SimpleHttpResponse> held = client.execute(SimpleRequestBuilder.get(url).build(), null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (peer.requests() < 2 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(peer.requests()).as("the second GET reached the peer").isEqualTo(2);
        Future<SimpleHttpResponse> waiting = null;
        if (queued) {
          waiting = client.execute(SimpleRequestBuilder.get(url).build(), null);
          Thread.sleep(100); // waiting for the pool's only connection
        }
        client.close(CloseMode.GRACEFUL);
        for (Future<SimpleHttpResponse> call : queued ? java.util.List.of(held, waiting) : java.util.List.of(held)) {
          assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS)).isInstanceOf(Exception.class)
              .isNotInstanceOf(java.util.concurrent.TimeoutException.class);
        }
        Thread.sleep(300); // a second send would come at once
        assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isZero();
        assertThat(peer.requests()).isEqualTo(2);
      } finally {
        client.close(CloseMode.IMMEDIATE);
      }
    }
  }
}
