package dev.timewait.testing;

import dev.timewait.diagnostics.TcpState;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The distinct connections in one scan of tables in the format of {@code /proc/net/tcp}: a scan
 * may list one socket more than once (see {@link KernelTcp#clientConnections}), and a set of
 * four-tuples counts it once. Stateless and thread-safe: each call reads the files anew.
 */
final class TableConnections {
  private static final boolean LITTLE_ENDIAN =
      java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

  private TableConnections() {}

  /**
   * The connections in {@code state} whose remote port is {@code remotePort}, each once; a
   * missing file adds none, an unreadable one what was read of it.
   */
  static Set<KernelTcp.Connection> read(List<Path> files, TcpState state, int remotePort) {
    Set<KernelTcp.Connection> connections = new HashSet<>();
    for (Path file : files) {
      try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
        String line;
        while ((line = in.readLine()) != null) {
          KernelTcp.Connection c = parse(line, state.code(), remotePort);
          if (c != null) {
            connections.add(c);
          }
        }
      } catch (NoSuchFileException e) {
        // tcp6 is missing where IPv6 is off: the other table still counts
      } catch (IOException e) {
        // unreadable (never seen for /proc): what was read still counts
      }
    }
    return connections;
  }

  /** One line, "sl: local:port remote:port st ...", if it matches; else (or the header) null. */
  private static KernelTcp.Connection parse(String line, int state, int remotePort) {
    int p = skipSpaces(line, 0);
    if (p >= line.length() || line.charAt(p) == 's') {
      return null; // blank, or the header
    }
    int sl = line.indexOf(':', p);
    if (sl < 0) {
      return null;
    }
    int local = skipSpaces(line, sl + 1);
    int localEnd = line.indexOf(' ', local);
    if (localEnd < 0) {
      return null;
    }
    int remote = skipSpaces(line, localEnd);
    int remoteEnd = line.indexOf(' ', remote);
    if (remoteEnd < 0) {
      return null;
    }
    int st = skipSpaces(line, remoteEnd);
    if (hex(line, st, 2) != state || port(line, remote, remoteEnd) != remotePort) {
      return null;
    }
    InetSocketAddress l = address(line, local, localEnd);
    InetSocketAddress r = address(line, remote, remoteEnd);
    return l == null || r == null ? null : new KernelTcp.Connection(l, r);
  }

  /**
   * "ADDR:PORT" in {@code [from, to)}: the kernel prints the address as 32-bit words in host
   * order (little-endian, as {@code TcpTable} reads them too).
   */
  private static InetSocketAddress address(String s, int from, int to) {
    int colon = to - 5;
    int port = port(s, from, to);
    int digits = colon - from;
    if (port < 0 || (digits != 8 && digits != 32)) {
      return null;
    }
    byte[] ip = new byte[digits / 2];
    for (int word = 0; word < digits / 8; word++) {
      for (int i = 0; i < 4; i++) {
        int v = hex(s, from + 8 * word + 2 * i, 2);
        if (v < 0) {
          return null;
        }
        // Each word in the host's byte order, as the kernel prints it (s390x: big-endian).
        ip[4 * word + (LITTLE_ENDIAN ? 3 - i : i)] = (byte) v;
      }
    }
    try {
      // An IPv4-mapped IPv6 address comes back as the Inet4Address it maps.
      return new InetSocketAddress(InetAddress.getByAddress(ip), port);
    } catch (UnknownHostException e) {
      return null; // not 4 or 16 bytes: never
    }
  }

  private static int port(String s, int from, int to) {
    return to - from > 5 && s.charAt(to - 5) == ':' ? hex(s, to - 4, 4) : -1;
  }

  private static int skipSpaces(String s, int p) {
    while (p < s.length() && s.charAt(p) == ' ') {
      p++;
    }
    return p;
  }

  private static int hex(String s, int at, int digits) {
    if (at < 0 || at + digits > s.length()) {
      return -1;
    }
    int v = 0;
    for (int i = 0; i < digits; i++) {
      int d = Character.digit(s.charAt(at + i), 16);
      if (d < 0) {
        return -1;
      }
      v = (v << 4) | d;
    }
    return v;
  }
}
