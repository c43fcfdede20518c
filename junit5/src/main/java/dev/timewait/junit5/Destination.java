package dev.timewait.junit5;

import dev.timewait.diagnostics.HostPort;
import dev.timewait.diagnostics.TcpFilter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A resolved destination: which kernel-table rows count (one filter per address a host name
 * resolves to, summed), and how messages name it. Immutable.
 */
final class Destination {
  private final List<TcpFilter> filters;
  private final String description;

  private Destination(List<TcpFilter> filters, String description) {
    this.filters = List.copyOf(filters);
    this.description = description;
  }

  /** The client side of every connection to {@code port}. */
  static Destination port(int port) {
    return new Destination(List.of(TcpFilter.remotePort(port)), "port " + port);
  }

  /** The client side of connections to {@code address}, which must be resolved. */
  static Destination address(InetSocketAddress address) {
    return new Destination(List.of(TcpFilter.remote(address)), HostPort.of(address));
  }

  /**
   * The client side of connections to any of {@code addresses} (a host name's every address: a
   * dual-stack client such as OkHttp tries IPv6 first, so "localhost" may be reached at ::1 while
   * its first address is 127.0.0.1), named {@code host:port}.
   */
  static Destination addresses(String host, int port, List<InetSocketAddress> addresses) {
    if (addresses.size() == 1) {
      return address(addresses.get(0));
    }
    List<TcpFilter> filters = new ArrayList<>();
    List<String> each = new ArrayList<>();
    for (InetSocketAddress a : addresses) {
      filters.add(TcpFilter.remote(a));
      each.add(HostPort.of(a));
    }
    return new Destination(filters, HostPort.of(host, port) + " " + each);
  }

  List<TcpFilter> filters() {
    return filters;
  }

  @Override
  public String toString() {
    return description;
  }
}
