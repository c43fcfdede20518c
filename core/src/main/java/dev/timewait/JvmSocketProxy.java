package dev.timewait;

import java.io.IOException;
import java.io.InputStream;
import java.net.Proxy;
import java.net.ProxySelector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Whether the JVM could send a plain {@code new Socket()} through a proxy. Such a socket's {@code
 * connect} asks the default {@link ProxySelector} every time, and to ask it builds and parses a
 * {@code socket://host:port} URI: about 1 KB and 3 µs of client CPU per connection, which a
 * connection per request pays on every request (issue 19; docs/benchmarks.md, session 27). The
 * JDK's own selector ({@code sun.net.spi.DefaultProxySelector}) picks a proxy for a socket only when
 * {@code socksProxyHost} is set, as a system property or in the JDK's {@code conf/net.properties},
 * or when {@code java.net.useSystemProxies} is true; otherwise it answers {@link Proxy#NO_PROXY},
 * and a socket made with {@code NO_PROXY} connects exactly as the plain one then does. With any
 * other default selector, or either setting, sockets are made the plain way and the JVM's proxy
 * applies as before.
 *
 * <p>Stateless apart from net.properties, read once; thread-safe. The settings are read on every
 * call (two system-property lookups), so a proxy configured later still applies.
 */
final class JvmSocketProxy {
  private static final String JDK_SELECTOR = "sun.net.spi.DefaultProxySelector";
  private static final String SOCKS_HOST = "socksProxyHost";
  private static final String SYSTEM_PROXIES = "java.net.useSystemProxies";
  /** The JDK's defaults for its network properties (NetProperties reads the same file). */
  private static final Properties NET_PROPERTIES = netProperties();

  private JvmSocketProxy() {}

  /** Whether a plain socket's connect might go through a proxy: if not, make it with NO_PROXY. */
  static boolean mayProxy() {
    ProxySelector selector;
    try {
      selector = ProxySelector.getDefault();
    } catch (SecurityException e) {
      return true; // cannot tell: the plain way, under the JDK's own privileges
    }
    if (selector == null) {
      return false; // the JDK connects directly without a selector
    }
    if (!JDK_SELECTOR.equals(selector.getClass().getName())) {
      return true;
    }
    String host = setting(SOCKS_HOST);
    return (host != null && !host.isEmpty()) || Boolean.parseBoolean(setting(SYSTEM_PROXIES));
  }

  private static String setting(String key) {
    return System.getProperty(key, NET_PROPERTIES.getProperty(key));
  }

  private static Properties netProperties() {
    Properties properties = new Properties();
    String home = System.getProperty("java.home");
    if (home == null) {
      return properties;
    }
    Path file = Path.of(home, "conf", "net.properties");
    try (InputStream in = Files.newInputStream(file)) {
      properties.load(in);
    } catch (IOException | RuntimeException e) {
      // No file: the JDK reads none either, and its defaults are empty.
    }
    return properties;
  }
}
