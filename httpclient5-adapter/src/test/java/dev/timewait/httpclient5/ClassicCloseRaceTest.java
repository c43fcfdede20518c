package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.RawHttpPeer;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The classic client closed while a call holds its endpoint, between the connect and the
 * exchange: HttpClient's pool closes the call's connection, its exec runtime connects the
 * endpoint again through the closed manager, and the manager's release, once closed, neither
 * pools nor closes what it is given (PoolingHttpClientConnectionManager.release, 5.6). The socket
 * factory holds its open connections, so such a connection stayed open for good. The call's
 * connect runs after the close: it must open nothing that outlives it.
 */
class ClassicCloseRaceTest {
  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void aCallWhoseClientClosesBeforeItsExchangeLeavesNoConnectionOpen(boolean tls) throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(RawHttpPeer.Behaviour.KEEP_ALIVE, Duration.ZERO, tls)) {
      CloseAccounting accounting = new CloseAccounting();
      AtomicReference<CloseableHttpClient> self = new AtomicReference<>();
      CloseableHttpClient client = TimeWaitHttpClient5.configure(HttpClients.custom(),
              CloseStrategy.pooled(), accounting, Flavor.options())
          .addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(), "close-the-client",
              (request, scope, chain) -> {
                self.get().close(); // another thread's close, landing just here
                return chain.proceed(request, scope);
              })
          .build();
      self.set(client);
      URI uri = URI.create((tls ? "https://localhost:" : "http://127.0.0.1:") + peer.port() + "/doc");
      try {
        client.execute(new HttpGet(uri), response -> EntityUtils.toString(response.getEntity()));
      } catch (Exception e) {
        // failing the call is fine; leaving its connection open is not
      }
      assertThat(Leaks.await(() -> accounting.snapshot().open() == 0, Duration.ofSeconds(5)))
          .as("every connection closed: %s", accounting.snapshot()).isTrue();
      KernelTcp.awaitClientSettled(peer.port(), Duration.ofSeconds(5));
      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
    }
  }
}
