package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A response whose body ends at the server's close (no length, not chunked; with or without
 * {@code Connection: close}: HTTP/1.1 reads such a body to the close either way), read
 * by a caller that works between its reads: the end of the body comes after the caller's pause,
 * and is the exchange's end, not the peer's idle timeout. Before, the pooled socket took the pause
 * (250 ms here) for the peer's idle timeout, and every later pooled connection to it retired after
 * 200 ms idle.
 */
class CloseDelimitedBodyPauseTest {
  @ParameterizedTest(name = "Connection: close in the response: {0}")
  @ValueSource(booleans = {true, false})
  void aPauseInsideABodyThatEndsAtTheServersCloseTeachesNoIdleTimeout(boolean saysClose)
      throws Exception {
    String connectionHeader = saysClose ? "Connection: close\r\n" : "";
    ExecutorService peer = Executors.newSingleThreadExecutor();
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      server.setSoTimeout(10_000);
      Future<?> served = peer.submit(() -> {
        try (Socket socket = server.accept()) {
          socket.setSoTimeout(10_000);
          InputStream in = socket.getInputStream();
          StringBuilder head = new StringBuilder();
          int b;
          while (head.indexOf("\r\n\r\n") < 0 && (b = in.read()) >= 0) {
            head.append((char) b);
          }
          OutputStream out = socket.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\n" + connectionHeader + "\r\nabc")
              .getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
        return null;
      });
      CloseAccounting accounting = new CloseAccounting();
      try (CloseableHttpClient client = TimeWaitHttpClient5.configure(HttpClients.custom(),
              PooledKeepAlive.builder().build(), accounting, Flavor.options())
          .disableAutomaticRetries().build()) {
        String url = "http://127.0.0.1:" + server.getLocalPort() + "/stream";
        String body = client.execute(new HttpGet(url), (ClassicHttpResponse response) -> {
          InputStream content = response.getEntity().getContent();
          byte[] first = content.readNBytes(3);
          try {
            Thread.sleep(250); // the caller's own work between two reads of the body
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
          }
          int end = content.read();
          return new String(first, StandardCharsets.US_ASCII) + (end < 0 ? "|end" : "|more");
        });
        assertThat(body).isEqualTo("abc|end");
      }
      served.get(10, TimeUnit.SECONDS);
      assertThat(accounting.peerIdleTimeouts().learned()).as("learned idle timeouts").isEmpty();
      assertThat(accounting.snapshot().closedIdleByPeer()).as("%s", accounting.snapshot()).isZero();
    } finally {
      peer.shutdownNow();
    }
  }
}
