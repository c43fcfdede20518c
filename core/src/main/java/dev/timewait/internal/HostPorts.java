package dev.timewait.internal;

/**
 * The one {@code host:port} formatter of the timewait modules: an IPv6 literal goes in brackets.
 * Core's close events use it directly; the diagnostics' public {@code HostPort} delegates to it.
 * Not for use outside the timewait modules. Stateless.
 */
public final class HostPorts {
  private HostPorts() {}

  /**
   * {@code host:port}, with {@code host} put in brackets when it is a bare IPv6 literal.
   *
   * @param host an IP literal or a host name; an IPv6 literal may already be in brackets
   * @param port the port as text
   * @return the host and port
   */
  public static String of(String host, String port) {
    boolean bare = host.indexOf(':') >= 0 && !host.startsWith("[");
    return (bare ? "[" + host + "]" : host) + ":" + port;
  }
}
