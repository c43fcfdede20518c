package dev.timewait.okhttp;

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
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A response whose body ends at the server's close (no length, not chunked), read by a caller
 * that works between its reads: the end of the body comes after the caller's pause, and is the
 * exchange's end, not the peer's idle timeout. HTTP/1.1 reads such a body to the close (RFC 9112
 * 6.3) whether or not the response says {@code Connection: close}; without it, OkHttp's pooled
 * socket took the pause (250 ms here) for the peer's idle timeout, and every later pooled
 * connection to it retired after 200 ms idle.
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
      OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder()
              .retryOnConnectionFailure(false), PooledKeepAlive.builder().build(), accounting)
          .build();
      try {
        String url = "http://127.0.0.1:" + server.getLocalPort() + "/stream";
        String body;
        try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
          InputStream content = response.body().byteStream();
          // One read (readNBytes would ask once more, for 0 bytes, and Okio reads the socket for
          // that: the end would come before the pause).
          byte[] first = new byte[3];
          assertThat(content.read(first)).isEqualTo(3);
          Thread.sleep(250); // the caller's own work between two reads of the body
          int end = content.read();
          body = new String(first, StandardCharsets.US_ASCII) + (end < 0 ? "|end" : "|more");
        }
        assertThat(body).isEqualTo("abc|end");
      } finally {
        TimeWaitOkHttp.shutdown(client);
      }
      served.get(10, TimeUnit.SECONDS);
      assertThat(accounting.peerIdleTimeouts().learned()).as("learned idle timeouts").isEmpty();
      assertThat(accounting.snapshot().closedIdleByPeer()).as("%s", accounting.snapshot()).isZero();
    } finally {
      peer.shutdownNow();
    }
  }
}
