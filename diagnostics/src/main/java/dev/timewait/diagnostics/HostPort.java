package dev.timewait.diagnostics;

import dev.timewait.internal.HostPorts;
import dev.timewait.internal.Preconditions;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The one way the diagnostics write an address and port: {@code 10.0.0.7:443}, {@code
 * [::1]:8080}. An IPv6 literal is put in brackets (RFC 3986's form), since its own colons would
 * otherwise run into the port's. A resolved address is written as its IP, an unresolved one as
 * the host name it was given. Stateless and thread-safe.
 */
public final class HostPort {
  private HostPort() {}

  /**
   * {@code address} as {@code ip:port}, or {@code host:port} when it is unresolved.
   *
   * @param address the address
   * @return the address and port, an IPv6 literal in brackets
   */
  public static String of(InetSocketAddress address) {
    Preconditions.checkNotNull(address, "address");
    InetAddress ip = address.getAddress();
    return of(ip != null ? ip.getHostAddress() : address.getHostString(), address.getPort());
  }

  /**
   * {@code host:port}, with {@code host} put in brackets when it is an IPv6 literal.
   *
   * @param host an IP literal or a host name; an IPv6 literal may already be in brackets
   * @param port the port
   * @return the host and port
   */
  public static String of(String host, int port) {
    return of(host, Integer.toString(port));
  }

  /**
   * {@code host:port} with the port already in words ({@code *} for any port, say).
   *
   * @param host an IP literal or a host name; an IPv6 literal may already be in brackets
   * @param port the port as text
   * @return the host and port
   */
  public static String of(String host, String port) {
    Preconditions.checkNotNull(host, "host");
    Preconditions.checkNotNull(port, "port");
    return HostPorts.of(host, port);
  }
}
