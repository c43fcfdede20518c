package dev.timewait.httpclient5;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.testing.TestTls;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.HttpVersion;
import org.apache.hc.core5.http.ProtocolVersion;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The async client's HTTP version against a TLS server that offers HTTP/2 (WireMock's Jetty,
 * ALPN): HTTP/1.1 for every strategy unless HTTP/2 is allowed for pooled reset retirement.
 */
class Http2ChoiceTest {
  private WireMockServer server;
  private URI uri;

  @BeforeEach
  void startServer() {
    server = new WireMockServer(wireMockConfig()
        .bindAddress("127.0.0.1")
        .dynamicPort()
        .dynamicHttpsPort()
        .keystorePath(TestTls.get().keyStorePath().toString())
        .keystorePassword(TestTls.PASSWORD)
        .keyManagerPassword(TestTls.PASSWORD)
        .keystoreType("PKCS12"));
    server.start();
    server.stubFor(get(urlEqualTo("/hello")).willReturn(aResponse().withStatus(200).withBody("hello")));
    uri = URI.create("https://localhost:" + server.httpsPort() + "/hello");
  }

  @AfterEach
  void stopServer() {
    server.stop();
  }

  private ProtocolVersion versionOf(HttpAsyncClientBuilder builder) throws Exception {
    try (CloseableHttpAsyncClient client = builder.build()) {
      client.start();
      HttpClientContext context = HttpClientContext.create();
      assertThat(client.execute(SimpleRequestBuilder.get(uri).build(), context, null)
          .get(30, TimeUnit.SECONDS).getCode()).isEqualTo(200);
      return context.getProtocolVersion();
    }
  }

  @Test
  void theServerOffersHttp2ToAnUnconfiguredClient() throws Exception {
    HttpAsyncClientBuilder control = HttpAsyncClients.custom()
        .setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
            .setTlsStrategy(new DefaultClientTlsStrategy(TestTls.get().clientContext()))
            .build());
    assertThat(versionOf(control)).isEqualTo(HttpVersion.HTTP_2);
  }

  @Test
  void everyStrategySpeaksHttp11ByDefault() throws Exception {
    for (CloseStrategy strategy : new CloseStrategy[] {
        CloseStrategy.serverClose(), CloseStrategy.reset(), CloseStrategy.pooled(),
        PooledKeepAlive.builder().retirement(Retirement.SERVER_CLOSE).build()}) {
      HttpAsyncClientBuilder builder = TimeWaitHttpClient5.configure(
          HttpAsyncClients.custom(), strategy, new CloseAccounting(), TestTls.get().clientContext());
      assertThat(versionOf(builder)).as(strategy.name()).isEqualTo(HttpVersion.HTTP_1_1);
    }
  }

  /**
   * The builder's own version policy, set after {@code configure} (its deprecated {@code
   * setVersionPolicy}, common in older examples), overrides the connection manager's HTTP/1.1: the
   * strategy would silently run over HTTP/2, where server close cannot be asked for. The request is
   * refused before it goes out, saying why.
   */
  @Test
  @SuppressWarnings("deprecation")
  void aVersionPolicySetAfterConfigureThatNegotiatesHttp2IsRefusedNotFollowedSilently() throws Exception {
    for (CloseStrategy strategy : new CloseStrategy[] {CloseStrategy.serverClose(), CloseStrategy.reset()}) {
      HttpAsyncClientBuilder builder = TimeWaitHttpClient5.configure(
              HttpAsyncClients.custom(), strategy, new CloseAccounting(), TestTls.get().clientContext())
          .setVersionPolicy(HttpVersionPolicy.NEGOTIATE);
      try (CloseableHttpAsyncClient client = builder.build()) {
        client.start();
        assertThatThrownBy(() -> client.execute(SimpleRequestBuilder.get(uri).build(), null)
            .get(30, TimeUnit.SECONDS)).as(strategy.name())
            .hasRootCauseMessage("timewait: the connection speaks HTTP/2.0, but " + strategy.name()
                + " needs HTTP/1.1 (server close and the request cap use its Connection header);"
                + " something set after TimeWaitHttpClient5.configure chose HTTP/2 (the builder's"
                + " setVersionPolicy, a TlsConfig): leave it out, or allow HTTP/2 with"
                + " HttpClient5Options.allowHttp2 for pooled keep-alive with RESET retirement");
      }
    }
    assertThat(server.getAllServeEvents()).as("nothing reached the server").isEmpty();
  }

  @Test
  void pooledResetRetirementMayNegotiateHttp2WhenAllowedAndStillCountsItsConnection()
      throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient5Options options = HttpClient5Options.builder()
        .sslContext(TestTls.get().clientContext()).allowHttp2(true).build();
    HttpAsyncClientBuilder builder = TimeWaitHttpClient5.configure(
        HttpAsyncClients.custom(), CloseStrategy.pooled(), accounting, options);
    assertThat(versionOf(builder)).isEqualTo(HttpVersion.HTTP_2);
    assertThat(accounting.snapshot().connectionsOpened()).isEqualTo(1);
    assertThat(accounting.snapshot().open()).isZero();
    assertThat(accounting.snapshot().closedByReset()).isEqualTo(1);
  }

  /**
   * Past a connection's last request (here its second), no request carries {@code Connection:
   * close} over HTTP/2, where the header would make it malformed (RFC 9113 8.2.2): every request is
   * answered over HTTP/2 on its first send. Until session 41 the adapter sent it: the server
   * refused those streams, which never reach its journal, and the unanswered retry answered them
   * on new connections (4 stale retries in 5 requests).
   */
  @Test
  void http2RequestsPastTheConnectionsLastCarryNoConnectionHeaderAndAreAnswered() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    HttpClient5Options options = HttpClient5Options.builder()
        .sslContext(TestTls.get().clientContext()).allowHttp2(true).build();
    try (CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(HttpAsyncClients.custom(),
        PooledKeepAlive.builder().maxRequestsPerConnection(2).build(), accounting, options).build()) {
      client.start();
      for (int i = 0; i < 5; i++) {
        HttpClientContext context = HttpClientContext.create();
        assertThat(client.execute(SimpleRequestBuilder.get(uri).build(), context, null)
            .get(30, TimeUnit.SECONDS).getCode()).as("request %d; %s", i, accounting.snapshot()).isEqualTo(200);
        assertThat(context.getProtocolVersion()).isEqualTo(HttpVersion.HTTP_2);
      }
    }
    assertThat(server.getAllServeEvents()).hasSize(5).allSatisfy(event ->
        assertThat(event.getRequest().containsHeader("Connection")).as("a Connection header").isFalse());
    // A request the server refused (a Connection header is malformed in HTTP/2, RFC 9113 8.2.2)
    // never reaches its journal, and the unanswered retry would answer it on a new connection.
    assertThat(accounting.snapshot().staleRetries()).as("%s", accounting.snapshot()).isZero();
  }

  /**
   * Where HTTP/2 is allowed, HttpClient's pool retires a connection at its lifetime itself (its
   * time to live: no request may end an HTTP/2 connection), discarding it as it is next leased.
   * That close is the lifetime's: before session 46 it read {@code IDLE_EVICTION}.
   */
  @Test
  void anHttp2ConnectionThePoolRetiresAtItsLifetimeIsHeardAsTheLifetime() throws Exception {
    CloseAccounting accounting = new CloseAccounting();
    java.util.List<dev.timewait.CloseEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    accounting.addListener(events::add);
    HttpClient5Options options = HttpClient5Options.builder()
        .sslContext(TestTls.get().clientContext()).allowHttp2(true).build();
    PooledKeepAlive strategy = PooledKeepAlive.builder().maxLifetime(java.time.Duration.ofMillis(300)).build();
    try (CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(
        HttpAsyncClients.custom(), strategy, accounting, options).build()) {
      client.start();
      for (int i = 0; i < 2; i++) {
        HttpClientContext context = HttpClientContext.create();
        assertThat(client.execute(SimpleRequestBuilder.get(uri).build(), context, null)
            .get(30, TimeUnit.SECONDS).getCode()).isEqualTo(200);
        assertThat(context.getProtocolVersion()).isEqualTo(HttpVersion.HTTP_2);
        if (i == 0) {
          Thread.sleep(400); // past the lifetime
        }
      }
      assertThat(accounting.snapshot().connectionsOpened()).as("%s", accounting.snapshot()).isEqualTo(2);
      assertThat(dev.timewait.testing.Leaks.await(() -> !events.isEmpty(), java.time.Duration.ofSeconds(5))).isTrue();
      assertThat(events.get(0).reason()).as("%s", events.get(0)).isEqualTo(dev.timewait.CloseEvent.Reason.LIFETIME);
    }
  }
}
