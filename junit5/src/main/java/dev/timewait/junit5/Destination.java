package dev.timewait.junit5;

import dev.timewait.diagnostics.HostPort;
import dev.timewait.diagnostics.TcpFilter;
import java.net.InetSocketAddress;

/** A resolved destination: which kernel-table rows count, and how messages name it. Immutable. */
final class Destination {
  private final TcpFilter filter;
  private final String description;

  private Destination(TcpFilter filter, String description) {
    this.filter = filter;
    this.description = description;
  }

  /** The client side of every connection to {@code port}. */
  static Destination port(int port) {
    return new Destination(TcpFilter.remotePort(port), "port " + port);
  }

  /** The client side of connections to {@code address}, which must be resolved. */
  static Destination address(InetSocketAddress address) {
    return new Destination(TcpFilter.remote(address), HostPort.of(address));
  }

  TcpFilter filter() {
    return filter;
  }

  @Override
  public String toString() {
    return description;
  }
}
