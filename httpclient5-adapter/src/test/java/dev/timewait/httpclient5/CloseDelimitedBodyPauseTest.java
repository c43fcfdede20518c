package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A response whose body ends at the server's close (no length, not chunked; with or without
 * {@code Connection: close}: HTTP/1.1 reads such a body to the close either way), read
 * by a caller that works between its reads: the end of the body comes after the caller's pause,
 * and is the exchange's end, not the peer's idle timeout. Before, the pooled socket took the pause
 * (250 ms here) for the peer's idle timeout, and every later pooled connection to it retired after
 * 200 ms idle.
 */
class CloseDelimitedBodyPauseTest {
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = RawHttpPeer.Behaviour.class, names = {"CLOSE_DELIMITED", "CLOSE_DELIMITED_SAYS_CLOSE"})
  void aPauseInsideABodyThatEndsAtTheServersCloseTeachesNoIdleTimeout(RawHttpPeer.Behaviour server)
      throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(server)) {
      CloseAccounting accounting = new CloseAccounting();
      try (CloseableHttpClient client = TimeWaitHttpClient5.configure(HttpClients.custom(),
              PooledKeepAlive.builder().build(), accounting, Flavor.options())
          .disableAutomaticRetries().build()) {
        String url = "http://127.0.0.1:" + peer.port() + "/stream";
        String body = client.execute(new HttpGet(url), (ClassicHttpResponse response) -> {
          InputStream content = response.getEntity().getContent();
          byte[] first = content.readNBytes(2);
          try {
            Thread.sleep(250); // the caller's own work between two reads of the body
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
          }
          int end = content.read();
          return new String(first, StandardCharsets.US_ASCII) + (end < 0 ? "|end" : "|more");
        });
        assertThat(body).isEqualTo("ok|end");
      }
      assertThat(accounting.peerIdleTimeouts().learned()).as("learned idle timeouts").isEmpty();
      assertThat(accounting.snapshot().closedIdleByPeer()).as("%s", accounting.snapshot()).isZero();
    }
  }
}
