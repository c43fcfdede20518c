package dev.timewait.httpclient5;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.head;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.TestTls;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpHead;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Server close for responses without a body (HEAD): both clients wait for the server's FIN as for
 * any other response. (The async client needs care here: HttpClient validates a body-less
 * exchange's connection at once and would discard a closed one with close(IMMEDIATE).)
 */
class BodylessResponseTest {
  private static final int REQUESTS = 20;
  private static final Duration SETTLE = Duration.ofSeconds(5);
  private WireMockServer server;
  private URI uri;

  @BeforeEach
  void startServer() throws IOException {
    KernelTcp.assumeReadable();
    // A fresh port: the test asserts no client TIME_WAIT towards it, and an earlier test's client
    // may have left some towards a port number that bind(0) hands out again.
    server = KernelTcp.startOnFreshPorts(() -> {
      WireMockServer s = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort()
          .keystorePath(TestTls.get().keyStorePath().toString())
          .keystorePassword(TestTls.PASSWORD).keyManagerPassword(TestTls.PASSWORD)
          .keystoreType("PKCS12"));
      s.start();
      return s;
    }, WireMockServer::stop, WireMockServer::port);
    server.stubFor(head(urlEqualTo("/hello")).willReturn(aResponse().withStatus(200)));
    uri = URI.create("http://127.0.0.1:" + server.port() + "/hello");
  }

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  @Test
  void classicServerCloseOfAHeadRequestLeavesTimeWaitOnTheServer() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    KernelCounters before = KernelCounters.read();
    try (CloseableHttpClient client = TimeWaitHttpClient5
        .configure(HttpClients.custom(), CloseStrategy.serverClose(), accounting).build()) {
      for (int i = 0; i < REQUESTS; i++) {
        int status = client.execute(new HttpHead(uri), response -> response.getCode());
        assertThat(status).isEqualTo(200);
      }
    }
    KernelTcp.awaitClientSettled(server.port(), SETTLE);

    assertThat(accounting.snapshot()).isEqualTo(new CloseStats(REQUESTS, REQUESTS, 0, 0, 0, 0, 0, 0));
    assertThat(KernelTcp.clientTimeWait(server.port())).isZero();
    assertThat(KernelTcp.awaitServerTimeWait(server.port(), REQUESTS, SETTLE))
        .isBetween(REQUESTS - KernelTcp.strayResetsSince(before), REQUESTS);
  }

  @Test
  void asyncServerCloseOfAHeadRequestLeavesTimeWaitOnTheServer() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    KernelCounters before = KernelCounters.read();
    try (CloseableHttpAsyncClient client = TimeWaitHttpClient5
        .configure(HttpAsyncClients.custom(), CloseStrategy.serverClose(), accounting).build()) {
      client.start();
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(client.execute(SimpleRequestBuilder.head(uri).build(), null)
            .get(30, TimeUnit.SECONDS).getCode()).isEqualTo(200);
      }
    }
    KernelTcp.awaitClientSettled(server.port(), SETTLE);

    assertThat(accounting.snapshot()).isEqualTo(new CloseStats(REQUESTS, REQUESTS, 0, 0, 0, 0, 0, 0));
    assertThat(KernelTcp.clientTimeWait(server.port())).isZero();
    assertThat(KernelTcp.awaitServerTimeWait(server.port(), REQUESTS, SETTLE))
        .isBetween(REQUESTS - KernelTcp.strayResetsSince(before), REQUESTS);
  }
}
