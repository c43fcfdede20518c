package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.LoopbackServer;
import dev.timewait.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.Test;

/**
 * The TLS versions and cipher suites of {@link HttpClient5Options} reach the handshake, on both
 * clients (a Spring SSL bundle's options: with a context from {@code createSslContext()} alone,
 * they were lost). A TLS peer on loopback records what each handshake agreed; without the options
 * the JDK agrees TLSv1.3 and its first suite, so each case below changes what is agreed.
 */
class TlsVersionsOptionTest {
  /** A TLS 1.3 suite the JDK offers, but not first (TLS_AES_256_GCM_SHA384 is). */
  private static final String SUITE = "TLS_AES_128_GCM_SHA256";

  /** Answers each request with "ok" and Connection: close, recording "protocol suite" per handshake. */
  private static final class Peer implements AutoCloseable {
    final List<String> agreed = new CopyOnWriteArrayList<>();
    final LoopbackServer server;

    Peer() throws IOException {
      server = new LoopbackServer("tls-versions-peer", this::serve);
    }

    private void serve(Socket socket) {
      try (SSLSocket tls = (SSLSocket) TestTls.get().serverContext().getSocketFactory()
          .createSocket(socket, null, socket.getPort(), true)) {
        tls.setUseClientMode(false);
        tls.setSoTimeout(10_000);
        tls.startHandshake();
        agreed.add(tls.getSession().getProtocol() + " " + tls.getSession().getCipherSuite());
        InputStream in = tls.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
          int b = in.read();
          if (b < 0) {
            return;
          }
          head.write(b);
        }
        OutputStream out = tls.getOutputStream();
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (IOException e) {
        agreed.add("failed: " + e);
      }
    }

    String url() {
      return "https://localhost:" + server.port() + "/";
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private static HttpClient5Options.Builder trusting() {
    return HttpClient5Options.builder().sslContext(TestTls.get().clientContext());
  }

  private static List<String> classic(HttpClient5Options options) throws Exception {
    try (Peer peer = new Peer();
        CloseableHttpClient client = TimeWaitHttpClient5.configure(HttpClients.custom(),
            CloseStrategy.reset(), new CloseAccounting(), options).build()) {
      String body = client.execute(new HttpGet(peer.url()), r -> EntityUtils.toString(r.getEntity()));
      assertThat(body).isEqualTo("ok");
      return List.copyOf(peer.agreed);
    }
  }

  private static List<String> async(HttpClient5Options options) throws Exception {
    try (Peer peer = new Peer();
        CloseableHttpAsyncClient client = TimeWaitHttpClient5.configure(HttpAsyncClients.custom(),
            CloseStrategy.reset(), new CloseAccounting(), options).build()) {
      client.start();
      SimpleHttpResponse response = client.execute(SimpleRequestBuilder.get(peer.url()).build(), null)
          .get(10, TimeUnit.SECONDS);
      assertThat(response.getBodyText()).isEqualTo("ok");
      return List.copyOf(peer.agreed);
    }
  }

  @Test
  void withoutTheOptionsTheJdkAgreesTls13AndItsFirstSuite() throws Exception {
    assertThat(classic(trusting().build())).singleElement().asString()
        .startsWith("TLSv1.3 ").doesNotEndWith(SUITE);
    assertThat(async(trusting().build())).singleElement().asString()
        .startsWith("TLSv1.3 ").doesNotEndWith(SUITE);
  }

  @Test
  void theClassicClientOffersOnlyTheTlsVersionsAndSuitesGiven() throws Exception {
    assertThat(classic(trusting().tlsVersions("TLSv1.2").build())).singleElement().asString()
        .startsWith("TLSv1.2 ");
    assertThat(classic(trusting().cipherSuites(SUITE).build())).containsExactly("TLSv1.3 " + SUITE);
  }

  @Test
  void theAsyncClientOffersOnlyTheTlsVersionsAndSuitesGiven() throws Exception {
    assertThat(async(trusting().tlsVersions("TLSv1.2").build())).singleElement().asString()
        .startsWith("TLSv1.2 ");
    assertThat(async(trusting().cipherSuites(SUITE).build())).containsExactly("TLSv1.3 " + SUITE);
  }

  @Test
  void badTlsVersionsAndSuitesAreRefusedNamingTheSetting() {
    HttpClient5Options.Builder builder = HttpClient5Options.builder();
    assertThatThrownBy(() -> builder.tlsVersions((String[]) null))
        .isInstanceOf(NullPointerException.class).hasMessage("tlsVersions cannot be null");
    assertThatThrownBy(() -> builder.cipherSuites(SUITE, " "))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("cipherSuites must hold names, but held \" \"");
    assertThat(builder.tlsVersions().build().tlsVersions()).isEmpty(); // none: the context's defaults
  }

  @Test
  void optionsWithTheSameVersionsAndSuitesAreEqual() {
    HttpClient5Options a = HttpClient5Options.builder().tlsVersions("TLSv1.3").cipherSuites(SUITE).build();
    HttpClient5Options b = HttpClient5Options.builder().tlsVersions("TLSv1.3").cipherSuites(SUITE).build();
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(HttpClient5Options.defaults());
    assertThat(a.toBuilder().build()).isEqualTo(a);
    assertThat(a.toString()).contains("tlsVersions=[TLSv1.3]", "cipherSuites=1 suites");
  }
}
