package dev.timewait.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.LoopbackServer;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SOCKS proxies bypass OkHttp's socket factory. A builder with one is rejected by configure(); a
 * SOCKS route picked at run time by a ProxySelector fails its call loudly instead of silently
 * closing the client's way. Runs through a minimal SOCKS5 relay on loopback.
 */
class SocksProxyTest {
  private WireMockServer server;
  private MiniSocks5 socks;

  @BeforeEach
  void start() throws IOException {
    server = TestServers.startWireMock();
    // On a fresh port: client TIME_WAIT left towards a reused port would count as this test's.
    socks = KernelTcp.startOnFreshPorts(MiniSocks5::new, MiniSocks5::close, MiniSocks5::port);
  }

  @AfterEach
  void stop() throws IOException {
    socks.close();
    server.stop();
  }

  /** The relay counts on its own thread, which may still be finishing when the call returns. */
  private int awaitRelayed(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(5).toNanos();
    while (socks.relayed() < expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return socks.relayed();
  }

  @Test
  void theRelayWorksForPlainOkHttp() throws Exception {
    OkHttpClient plain = new OkHttpClient.Builder().proxy(socks.proxy()).build();
    try {
      assertThat(TestServers.fetch(plain, TestServers.url(server, false, "/hello")).code()).isEqualTo(200);
      assertThat(awaitRelayed(1)).isEqualTo(1);
    } finally {
      TimeWaitOkHttp.shutdown(plain);
    }
  }

  @Test
  void aSocksRouteFromAProxySelectorFailsTheCallLoudly() throws Exception {
    ProxySelector selector = new ProxySelector() {
      @Override
      public List<Proxy> select(URI uri) {
        return List.of(socks.proxy());
      }

      @Override
      public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
    };
    CloseAccounting accounting = new CloseAccounting();
    OkHttpClient client = TimeWaitOkHttp.configure(new OkHttpClient.Builder().proxySelector(selector),
        CloseStrategy.reset(), accounting).build();
    try {
      assertThatThrownBy(() -> TestServers.fetch(client, TestServers.url(server, false, "/hello")))
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("SOCKS proxy")
          .hasMessageContaining("without the socket factory");
      assertThat(awaitRelayed(1)).isEqualTo(1);
      assertThat(accounting.snapshot().connectionsOpened()).isZero(); // never our socket
    } finally {
      TimeWaitOkHttp.shutdown(client);
    }
    // The connection OkHttp opened to the relay ends with an RST: its close of the connection
    // it cannot use would otherwise be a FIN, and the client's TIME_WAIT towards the proxy.
    KernelTcp.assumeReadable();
    KernelTcp.awaitClientSettled(socks.port(), java.time.Duration.ofSeconds(5));
    assertThat(KernelTcp.clientTimeWait(socks.port())).as("client TIME_WAIT towards the proxy").isZero();
  }

  /** A SOCKS5 relay without authentication, CONNECT only. Test scope; bounded by socket timeouts. */
  private static final class MiniSocks5 implements AutoCloseable {
    private final java.util.concurrent.atomic.AtomicInteger relayed =
        new java.util.concurrent.atomic.AtomicInteger();
    private final LoopbackServer server = new LoopbackServer("mini-socks5", this::serve);

    MiniSocks5() throws IOException {}

    Proxy proxy() {
      return new Proxy(Proxy.Type.SOCKS, new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
    }

    int relayed() {
      return relayed.get();
    }

    int port() {
      return server.port();
    }

    private static void closeQuietly(Socket socket) {
      try {
        socket.close();
      } catch (IOException e) {
        // closed already
      }
    }

    private void serve(Socket client) {
      try (client) {
        client.setSoTimeout(30_000);
        DataInputStream in = new DataInputStream(client.getInputStream());
        OutputStream out = client.getOutputStream();
        in.readByte(); // version 5
        in.skipNBytes(in.readUnsignedByte()); // methods
        out.write(new byte[] {5, 0}); // no authentication
        in.readByte(); // version
        in.readByte(); // CONNECT
        in.readByte(); // reserved
        int type = in.readUnsignedByte();
        String host;
        if (type == 1) {
          byte[] ip = in.readNBytes(4);
          host = InetAddress.getByAddress(ip).getHostAddress();
        } else if (type == 3) {
          host = new String(in.readNBytes(in.readUnsignedByte()), StandardCharsets.US_ASCII);
        } else {
          host = InetAddress.getByAddress(in.readNBytes(16)).getHostAddress();
        }
        int port = in.readUnsignedShort();
        try (Socket target = new Socket(host, port)) {
          target.setSoTimeout(30_000);
          out.write(new byte[] {5, 0, 0, 1, 0, 0, 0, 0, 0, 0});
          out.flush();
          relayed.incrementAndGet();
          server.submit(() -> {
            copy(in, targetOut(target));
            closeQuietly(target); // the client went away: so does the relay, which closes it
          });
          copy(target.getInputStream(), out);
        }
      } catch (IOException e) {
        // either side went away
      }
    }

    private static OutputStream targetOut(Socket target) {
      try {
        return target.getOutputStream();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    private static void copy(InputStream from, OutputStream to) {
      byte[] buffer = new byte[8192];
      try {
        int n;
        while ((n = from.read(buffer)) >= 0) {
          to.write(buffer, 0, n);
          to.flush();
        }
      } catch (IOException e) {
        // closed
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
