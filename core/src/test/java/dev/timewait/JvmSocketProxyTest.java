package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sockets skip the JVM's proxy selector only where it would answer "no proxy": a SOCKS proxy the
 * JVM is configured for, or a selector of the application's own, still applies to them. Changes
 * JVM-wide settings and restores them after each test.
 */
class JvmSocketProxyTest {
  private static final String[] SETTINGS = {
      "socksProxyHost", "socksProxyPort", "socksNonProxyHosts", "java.net.useSystemProxies"};

  private ProxySelector defaultSelector;
  private final String[] saved = new String[SETTINGS.length];

  @BeforeEach
  void save() {
    defaultSelector = ProxySelector.getDefault();
    for (int i = 0; i < SETTINGS.length; i++) {
      saved[i] = System.getProperty(SETTINGS[i]);
    }
  }

  @AfterEach
  void restore() {
    ProxySelector.setDefault(defaultSelector);
    for (int i = 0; i < SETTINGS.length; i++) {
      if (saved[i] == null) {
        System.clearProperty(SETTINGS[i]);
      } else {
        System.setProperty(SETTINGS[i], saved[i]);
      }
    }
  }

  @Test
  void onlyTheJdksOwnSelectorWithoutAnySocksSettingLetsSocketsSkipIt() {
    System.clearProperty("socksProxyHost");
    System.clearProperty("java.net.useSystemProxies");
    assertThat(JvmSocketProxy.mayProxy()).as("the JDK's selector, nothing configured").isFalse();

    System.setProperty("socksProxyHost", "");
    assertThat(JvmSocketProxy.mayProxy()).as("socksProxyHost empty: the JDK ignores it").isFalse();
    System.setProperty("socksProxyHost", "proxy.example");
    assertThat(JvmSocketProxy.mayProxy()).as("socksProxyHost set").isTrue();
    System.clearProperty("socksProxyHost");

    System.setProperty("java.net.useSystemProxies", "TRUE");
    assertThat(JvmSocketProxy.mayProxy()).as("the desktop's proxy settings").isTrue();
    System.clearProperty("java.net.useSystemProxies");

    ProxySelector.setDefault(new Recording());
    assertThat(JvmSocketProxy.mayProxy()).as("a selector of the application's own").isTrue();
    ProxySelector.setDefault(null);
    assertThat(JvmSocketProxy.mayProxy()).as("no selector: the JDK connects directly").isFalse();
  }

  @Test
  @SuppressWarnings("try") // the accepted peer only has to exist
  void anApplicationsOwnProxySelectorIsStillAskedForEveryConnection() throws Exception {
    Recording selector = new Recording();
    ProxySelector.setDefault(selector);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
         Socket client = TimeWaitSocketFactory.create(CloseStrategy.reset())
             .createSocket(server.getInetAddress(), server.getLocalPort());
         Socket peer = server.accept()) {
      assertThat(client.isConnected()).isTrue();
      assertThat(selector.asked).hasSize(1);
      assertThat(selector.asked.get(0).getScheme()).isEqualTo("socket");
      assertThat(selector.asked.get(0).getPort()).isEqualTo(server.getLocalPort());
    }
  }

  @Test
  void aSocksProxyConfiguredForTheJvmStillCarriesTheConnection() throws Exception {
    try (ServerSocket fakeProxy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      System.setProperty("socksProxyHost", "127.0.0.1");
      System.setProperty("socksProxyPort", Integer.toString(fakeProxy.getLocalPort()));
      // The proxy reads the client's SOCKS greeting and hangs up. An unresolved name: without the
      // proxy the connect would fail at once (and send nothing anywhere).
      CompletableFuture<Integer> greeting = CompletableFuture.supplyAsync(() -> {
        try (Socket s = fakeProxy.accept()) {
          s.setSoTimeout(5000);
          InputStream in = s.getInputStream();
          return in.read();
        } catch (IOException e) {
          return -2;
        }
      });
      Socket client = TimeWaitSocketFactory.create(CloseStrategy.reset()).createSocket();
      try {
        SocketAddress target = InetSocketAddress.createUnresolved("timewait-test.invalid", 80);
        assertThatThrownBy(() -> client.connect(target, 5000)).isInstanceOf(IOException.class);
      } finally {
        client.close();
      }
      assertThat(greeting.get(10, TimeUnit.SECONDS)).as("SOCKS version 5 greeting").isEqualTo(5);
    }
  }

  /** Answers "no proxy" and records what it was asked. */
  private static final class Recording extends ProxySelector {
    final List<URI> asked = new CopyOnWriteArrayList<>();

    @Override
    public List<Proxy> select(URI uri) {
      asked.add(uri);
      return List.of(Proxy.NO_PROXY);
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
  }
}
