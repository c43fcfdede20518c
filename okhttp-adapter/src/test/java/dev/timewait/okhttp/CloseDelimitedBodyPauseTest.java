package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A response whose body ends at the server's close (no length, not chunked), read by a caller
 * that works between its reads: the end of the body comes after the caller's pause, and is the
 * exchange's end, not the peer's idle timeout. HTTP/1.1 reads such a body to the close (RFC 9112
 * 6.3) whether or not the response says {@code Connection: close}; without it, OkHttp's pooled
 * socket took the pause (250 ms here) for the peer's idle timeout, and every later pooled
 * connection to it retired after 200 ms idle.
 */
class CloseDelimitedBodyPauseTest {
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = RawHttpPeer.Behaviour.class, names = {"CLOSE_DELIMITED", "CLOSE_DELIMITED_SAYS_CLOSE"})
  void aPauseInsideABodyThatEndsAtTheServersCloseTeachesNoIdleTimeout(RawHttpPeer.Behaviour server)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(server)) {
      CloseAccounting accounting = new CloseAccounting();
      OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder()
              .retryOnConnectionFailure(false), PooledKeepAlive.builder().build(), accounting)
          .build();
      try {
        String url = "http://127.0.0.1:" + peer.port() + "/stream";
        String body;
        try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
          InputStream content = response.body().byteStream();
          // One read (readNBytes would ask once more, for 0 bytes, and Okio reads the socket for
          // that: the end would come before the pause).
          byte[] first = new byte[2];
          assertThat(content.read(first)).isEqualTo(2);
          Thread.sleep(250); // the caller's own work between two reads of the body
          int end = content.read();
          body = new String(first, StandardCharsets.US_ASCII) + (end < 0 ? "|end" : "|more");
        }
        assertThat(body).isEqualTo("ok|end");
      } finally {
        TimeWaitOkHttp.shutdown(client);
      }
      assertThat(accounting.peerIdleTimeouts().learned()).as("learned idle timeouts").isEmpty();
      assertThat(accounting.snapshot().closedIdleByPeer()).as("%s", accounting.snapshot()).isZero();
    }
  }
}
