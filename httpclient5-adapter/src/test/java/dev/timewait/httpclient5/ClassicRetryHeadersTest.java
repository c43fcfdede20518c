package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.RawHttpPeer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.junit.jupiter.api.Test;

/**
 * The classic client's unanswered retry sends the request as HttpClient's stages before it made
 * it: with the {@code Accept-Encoding} its content compression adds (before, the copy started from
 * the caller's request without it, and its response came back uncompressed). The peer drops the
 * second request of each connection.
 */
class ClassicRetryHeadersTest {
  @Test
  void theRetriedRequestKeepsTheAcceptEncodingOfHttpClientsCompression() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.DROP_SECOND_REQUEST, Duration.ZERO, false);
        CloseableHttpClient client = TimeWaitHttpClient5.configure(HttpClients.custom(),
                PooledKeepAlive.builder().build(), accounting, Flavor.options())
            .disableAutomaticRetries().build()) {
      String url = "http://127.0.0.1:" + peer.port() + "/doc";
      Integer first = client.execute(new HttpGet(url), r -> r.getCode());
      assertThat(first).isEqualTo(200);
      Integer second = client.execute(new HttpGet(url), r -> r.getCode());
      assertThat(second).as("dropped, then answered on a fresh connection").isEqualTo(200);
      List<String> heads = peer.requestHeads();
      assertThat(heads).as("%s", accounting.snapshot()).hasSize(3);
      assertThat(accounting.snapshot().staleRetries()).isEqualTo(1);
      assertThat(heads).allSatisfy(head -> assertThat(head.toLowerCase(Locale.ROOT)).contains("\r\naccept-encoding: "));
    }
  }
}
