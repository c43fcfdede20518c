package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * Which sockets of a {@link TcpTable} to count: by local and remote address and port. An address
 * left out matches any; IPv4 addresses also match their IPv4-mapped IPv6 form ({@code
 * ::ffff:127.0.0.1}), which is how the JVM's dual-stack sockets show in {@code /proc/net/tcp6}.
 *
 * <pre>{@code
 * TcpFilter towardsServer = TcpFilter.remotePort(8080);   // the client's side of each connection
 * TcpFilter serverSide = TcpFilter.localPort(8080);        // the server's side
 * TcpFilter destination = TcpFilter.remote(new InetSocketAddress("10.0.0.7", 443));
 * TcpFilter one = TcpFilter.connection(
 *     new InetSocketAddress(socket.getLocalAddress(), socket.getLocalPort()),
 *     new InetSocketAddress(socket.getInetAddress(), socket.getPort()));
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class TcpFilter {
  static final int ANY_PORT = -1;
  private static final TcpFilter ANY = new TcpFilter(null, ANY_PORT, null, ANY_PORT);

  private final byte[] localAddress;
  private final int localPort;
  private final byte[] remoteAddress;
  private final int remotePort;

  private TcpFilter(byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort) {
    this.localAddress = localAddress;
    this.localPort = localPort;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }

  /** {@return every socket} */
  public static TcpFilter any() {
    return ANY;
  }

  /**
   * Sockets whose local port is {@code port}: the server's side of connections to it.
   *
   * @param port the port, 1 to 65535
   * @return sockets whose local port is {@code port}
   */
  public static TcpFilter localPort(int port) {
    return new TcpFilter(null, checkPort(port, "localPort"), null, ANY_PORT);
  }

  /**
   * Sockets whose remote port is {@code port}: the client's side of connections to it.
   *
   * @param port the port, 1 to 65535
   * @return sockets whose remote port is {@code port}
   */
  public static TcpFilter remotePort(int port) {
    return new TcpFilter(null, ANY_PORT, null, checkPort(port, "remotePort"));
  }

  /**
   * Sockets connected to {@code remote}: a client's side of connections to that destination.
   *
   * @param remote the remote ip:port
   * @return sockets connected to {@code remote}
   */
  public static TcpFilter remote(InetSocketAddress remote) {
    Preconditions.checkNotNull(remote, "remote");
    return new TcpFilter(null, ANY_PORT, bytes(remote, "remote"), checkPort(remote.getPort(), "remotePort"));
  }

  /**
   * Sockets bound to {@code local}: a server's side of connections to it.
   *
   * @param local the local ip:port
   * @return sockets bound to {@code local}
   */
  public static TcpFilter local(InetSocketAddress local) {
    Preconditions.checkNotNull(local, "local");
    return new TcpFilter(bytes(local, "local"), checkPort(local.getPort(), "localPort"), null, ANY_PORT);
  }

  /**
   * The one connection from {@code local} to {@code remote}: the four-tuple. Counting a test's own
   * connections this way leaves out other sockets that share a port number with them (an
   * ephemeral port is reused towards other destinations, and a server port may have belonged to
   * an earlier server).
   *
   * @param local the local ip:port
   * @param remote the remote ip:port
   * @return the one connection from {@code local} to {@code remote}
   */
  public static TcpFilter connection(InetSocketAddress local, InetSocketAddress remote) {
    Preconditions.checkNotNull(local, "local");
    Preconditions.checkNotNull(remote, "remote");
    return new TcpFilter(bytes(local, "local"), checkPort(local.getPort(), "localPort"),
        bytes(remote, "remote"), checkPort(remote.getPort(), "remotePort"));
  }

  private static int checkPort(int port, String name) {
    return Preconditions.checkInRange(port, 1, 65535, name);
  }

  private static byte[] bytes(InetSocketAddress address, String name) {
    InetAddress ip = address.getAddress();
    Preconditions.checkArgument(ip != null, name + " must be resolved, but was " + address);
    return normalize(ip);
  }

  /** The 16-byte form of {@code ip}: IPv4 as IPv4-mapped IPv6. */
  static byte[] normalize(InetAddress ip) {
    byte[] raw = ip.getAddress();
    if (ip instanceof Inet4Address) {
      byte[] mapped = new byte[16];
      mapped[10] = (byte) 0xff;
      mapped[11] = (byte) 0xff;
      System.arraycopy(raw, 0, mapped, 12, 4);
      return mapped;
    }
    return raw;
  }

  boolean matchesPorts(int local, int remote) {
    return (localPort == ANY_PORT || localPort == local) && (remotePort == ANY_PORT || remotePort == remote);
  }

  boolean needsLocalAddress() {
    return localAddress != null;
  }

  boolean needsRemoteAddress() {
    return remoteAddress != null;
  }

  boolean matchesLocalAddress(byte[] address16) {
    return localAddress == null || Arrays.equals(localAddress, address16);
  }

  boolean matchesRemoteAddress(byte[] address16) {
    return remoteAddress == null || Arrays.equals(remoteAddress, address16);
  }

  @Override
  public String toString() {
    return "TcpFilter[local=" + describe(localAddress, localPort) + ", remote="
        + describe(remoteAddress, remotePort) + "]";
  }

  private static String describe(byte[] address, int port) {
    String host = "*";
    if (address != null) {
      try {
        host = InetAddress.getByAddress(address).getHostAddress();
      } catch (java.net.UnknownHostException e) {
        host = Arrays.toString(address);
      }
    }
    return HostPort.of(host, port == ANY_PORT ? "*" : Integer.toString(port));
  }
}
