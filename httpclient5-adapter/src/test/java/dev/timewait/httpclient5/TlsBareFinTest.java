package dev.timewait.httpclient5;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.PooledKeepAlive;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.Leaks;
import dev.timewait.testing.TestTls;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A TLS peer that ends an idle pooled connection with a bare FIN, no close_notify (a TCP proxy or
 * balancer passing TLS through closes so): the peer closed first, and the client's close after it
 * is no close of its own first, whatever TLS does on its way out.
 */
class TlsBareFinTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  @ParameterizedTest
  @EnumSource(Flavor.class)
  void anIdleConnectionEndedByABareFinIsCountedClosedByThePeerNotLocallyFirst(Flavor flavor)
      throws Exception {
    ExecutorService peer = Executors.newSingleThreadExecutor();
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      server.setSoTimeout(10_000);
      Future<?> served = peer.submit(() -> {
        try (Socket plain = server.accept()) {
          plain.setSoTimeout(10_000);
          // Layered, not closing the plain socket with it: the plain close is a bare FIN.
          SSLSocket tls = (SSLSocket) TestTls.get().serverContext().getSocketFactory()
              .createSocket(plain, null, false);
          tls.setUseClientMode(false);
          InputStream in = tls.getInputStream();
          StringBuilder head = new StringBuilder();
          int b;
          while (head.indexOf("\r\n\r\n") < 0 && (b = in.read()) >= 0) {
            head.append((char) b);
          }
          OutputStream out = tls.getOutputStream();
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
              .getBytes(StandardCharsets.US_ASCII));
          out.flush();
          Thread.sleep(300);
        } // plain.close(): a FIN, without TLS's close_notify
        return null;
      });
      CloseAccounting accounting = new CloseAccounting();
      try (TestClient client = flavor.client(PooledKeepAlive.builder().build(), accounting)) {
        assertThat(client.get(URI.create("https://localhost:" + server.getLocalPort() + "/"))).isEqualTo(200);
        served.get(10, TimeUnit.SECONDS);
        Thread.sleep(300); // the async client's reactor reads the FIN and closes meanwhile
      }
      assertThat(Leaks.await(() -> accounting.snapshot().open() == 0, SETTLE)).isTrue();
      CloseStats stats = accounting.snapshot();
      assertThat(stats.closedLocallyFirst()).as("%s", stats).isZero();
      assertThat(stats.closedIdleByPeer()).as("the peer's close of the idle connection: %s", stats)
          .isEqualTo(1);
      KernelTcp.awaitClientSettled(server.getLocalPort(), SETTLE);
      assertThat(KernelTcp.clientTimeWait(server.getLocalPort())).isZero();
    } finally {
      peer.shutdownNow();
    }
  }
}
