package dev.timewait.junit5;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * How a guard finds its destination: a fixed port or address, a member of the test class named
 * by {@link GuardTimeWait#portSupplier()}, or a supplier given to the builder. Immutable and
 * thread-safe (a supplier given to the builder must be too).
 */
final class DestinationSpec {
  /** How host names are resolved: every address. Replaced by tests only (a name with two addresses). */
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  static volatile Resolver resolver = InetAddress::getAllByName;

  private final int port;
  private final String host;
  private final String memberName;
  private final Supplier<?> supplier;

  private DestinationSpec(int port, String host, String memberName, Supplier<?> supplier) {
    this.port = port;
    this.host = host;
    this.memberName = memberName;
    this.supplier = supplier;
  }

  static DestinationSpec of(int port, String host) {
    return new DestinationSpec(port, host, null, null);
  }

  static DestinationSpec member(String name, String host) {
    return new DestinationSpec(0, host, name, null);
  }

  static DestinationSpec supplier(Supplier<?> supplier, String host) {
    return new DestinationSpec(0, host, null, supplier);
  }

  /**
   * Resolves the destination now.
   *
   * @throws ExtensionConfigurationException if it cannot be resolved, with the reason
   */
  Destination resolve(ExtensionContext context) {
    if (memberName != null) {
      return fromValue(Members.read(context, memberName, "portSupplier"), "portSupplier '" + memberName + "'");
    }
    if (supplier != null) {
      Object value;
      try {
        value = supplier.get();
      } catch (RuntimeException e) {
        throw new ExtensionConfigurationException("the guard's port supplier failed: " + e, e);
      }
      return fromValue(value, "the guard's port supplier");
    }
    return withHost(port, host, "port");
  }

  private Destination fromValue(Object value, String source) {
    if (value instanceof IntSupplier) {
      value = ((IntSupplier) value).getAsInt();
    } else if (value instanceof Supplier) {
      value = ((Supplier<?>) value).get();
    }
    if (value instanceof Number) {
      return withHost(((Number) value).intValue(), host, source);
    }
    if (value instanceof InetSocketAddress) {
      InetSocketAddress address = (InetSocketAddress) value;
      if (!host.isEmpty()) {
        throw new ExtensionConfigurationException(
            source + " yielded an address, " + address + ", and host is set too: give the host in one place");
      }
      if (!address.isUnresolved()) {
        withHost(address.getPort(), "", source); // the port's check
        return Destination.address(address); // the address given, not its name looked up again
      }
      return withHost(address.getPort(), address.getHostString(), source);
    }
    if (value instanceof String) {
      return fromString((String) value, source);
    }
    throw new ExtensionConfigurationException(source + " must yield a port (int), an InetSocketAddress or a "
        + "\"host:port\" string, but yielded " + (value == null ? "null" : value.getClass().getName() + " " + value));
  }

  private Destination fromString(String text, String source) {
    String s = text.trim();
    int colon = s.lastIndexOf(':');
    String h = colon < 0 ? "" : s.substring(0, colon);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    int p;
    try {
      p = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new ExtensionConfigurationException(source + " must yield \"host:port\" or \"port\", but yielded \"" + text + "\"");
    }
    if (!h.isEmpty() && !host.isEmpty()) {
      throw new ExtensionConfigurationException(
          source + " yielded a host, \"" + text + "\", and host is set too: give the host in one place");
    }
    return withHost(p, h.isEmpty() ? host : h, source);
  }

  private static Destination withHost(int port, String host, String source) {
    if (port < 1 || port > 65535) {
      throw new ExtensionConfigurationException(source + " must be between 1 and 65535, but was " + port);
    }
    if (host.isEmpty()) {
      return Destination.port(port);
    }
    try {
      // Every address: a client that reaches the host at another of them (IPv6 first, as OkHttp
      // tries it) would leave TIME_WAIT the first address's filter never sees.
      java.util.List<InetSocketAddress> all = new java.util.ArrayList<>();
      for (InetAddress a : resolver.resolve(host)) {
        all.add(new InetSocketAddress(a, port));
      }
      return Destination.addresses(host, port, all);
    } catch (UnknownHostException e) {
      throw new ExtensionConfigurationException("host \"" + host + "\" cannot be resolved: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    String where = host.isEmpty() ? "" : host + ":";
    if (memberName != null) {
      return where + "<" + memberName + ">";
    }
    return supplier != null ? where + "<supplier>" : where + port;
  }
}
