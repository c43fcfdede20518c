package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.DefaultHttpRequestRetryStrategy;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.junit.jupiter.api.Test;

/**
 * The async client's unanswered retry is once per call, as the classic client's: HttpClient's own
 * retry, further out in the exec chain, runs the adapter's interceptor again for each of its
 * attempts, which must not give the adapter's retry another turn. The peer answers the first
 * request of each connection and resets the connection after reading its second; four pooled
 * connections are warm, so each attempt of the call meets a reused connection that fails
 * unanswered: the adapter's attempt and its retry, then HttpClient's retry (1) alone.
 */
class AsyncRetryOncePerCallTest {
  private static final long BOUND_SECONDS = 10;

  @Test
  void httpClientsOwnRetryGivesTheAdaptersRetryNoSecondTurn() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    CountDownLatch warm = new CountDownLatch(4);
    ExecutorService peers = Executors.newCachedThreadPool();
    CloseAccounting accounting = new CloseAccounting();
    CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(HttpAsyncClients.custom(),
            PooledKeepAlive.builder().maxTotal(4).build(), accounting, Flavor.options())
        .setRetryStrategy(new DefaultHttpRequestRetryStrategy(1, TimeValue.ofMilliseconds(10)))
        .build();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      peers.execute(() -> {
        while (!server.isClosed()) {
          try {
            Socket socket = server.accept();
            peers.execute(() -> answerFirstResetSecond(socket, requests, warm));
          } catch (Exception closed) {
            return;
          }
        }
      });
      client.start();
      String url = "http://127.0.0.1:" + server.getLocalPort() + "/doc";
      List<Future<SimpleHttpResponse>> warming = new ArrayList<>();
      for (int i = 0; i < 4; i++) { // held until all four arrived: four connections
        warming.add(client.execute(SimpleRequestBuilder.get(url).build(), null));
      }
      for (Future<SimpleHttpResponse> response : warming) {
        assertThat(response.get(BOUND_SECONDS, TimeUnit.SECONDS).getCode()).isEqualTo(200);
      }
      Thread.sleep(100); // back in the pool

      assertThatThrownBy(() -> client.execute(SimpleRequestBuilder.get(url).build(), null)
          .get(BOUND_SECONDS, TimeUnit.SECONDS)).as("every connection resets it").isInstanceOf(Exception.class)
            .isNotInstanceOf(java.util.concurrent.TimeoutException.class);
      Thread.sleep(300); // a further send would come at once

      // Before the fix: 4 (the adapter's retry once more inside HttpClient's retry).
      assertThat(requests.get() - 4).as("the call's sends; %s", accounting.snapshot()).isEqualTo(3);
      assertThat(accounting.snapshot().staleRetries()).isEqualTo(1);
    } finally {
      client.close(CloseMode.IMMEDIATE);
      peers.shutdownNow();
    }
  }

  private static void answerFirstResetSecond(Socket socket, AtomicInteger requests, CountDownLatch warm) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      if (RawHttpPeer.readRequestHead(in) == null) {
        return;
      }
      requests.incrementAndGet();
      warm.countDown();
      warm.await(BOUND_SECONDS, TimeUnit.SECONDS);
      out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      if (RawHttpPeer.readRequestHead(in) == null) {
        return;
      }
      requests.incrementAndGet();
      socket.setSoLinger(true, 0); // read, never answered: an RST
    } catch (Exception e) {
      // the client went away
    }
  }
}
