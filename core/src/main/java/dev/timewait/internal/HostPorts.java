package dev.timewait.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The one {@code host:port} formatter of the timewait modules: an IPv6 literal goes in brackets,
 * in its one text form (RFC 5952: lower case, leading zeros dropped, the longest run of two or
 * more zero groups as {@code ::}), so that a destination reads the same whether a close event
 * wrote it from a socket's address (the JDK writes {@code 0:0:0:0:0:0:0:1}) or a user named it
 * ({@code ::1}). Core's close events use it directly; the diagnostics' public {@code HostPort}
 * delegates to it. Not for use outside the timewait modules. Stateless.
 */
public final class HostPorts {
  private HostPorts() {}

  /**
   * {@code host:port}, with {@code host} put in brackets, in RFC 5952's form, when it is an IPv6
   * literal; a host name or an IPv4 literal as given.
   *
   * @param host an IP literal or a host name; an IPv6 literal may already be in brackets, and may
   *     carry a zone ({@code fe80::1%eth0})
   * @param port the port as text
   * @return the host and port
   */
  public static String of(String host, String port) {
    if (host.indexOf(':') < 0) {
      return host + ":" + port;
    }
    String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    String text = canonicalIpv6(literal);
    // An IPv4-mapped literal is the IPv4 address a socket of a dual-stack JVM reports: no brackets.
    return text.indexOf(':') >= 0 ? "[" + text + "]:" + port : text + ":" + port;
  }

  /**
   * RFC 5952's text of an IPv6 literal, its zone kept as written; an IPv4-mapped one as its IPv4
   * address; the literal as given if it is none (never looked up as a name).
   */
  static String canonicalIpv6(String literal) {
    int zone = literal.indexOf('%');
    String address = zone < 0 ? literal : literal.substring(0, zone);
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (Character.digit(c, 16) < 0 && c != ':' && c != '.') {
        return literal; // not an IP literal: getByName would look it up
      }
    }
    byte[] bytes;
    try {
      // In brackets the JDK parses it as an IPv6 literal or fails at once, never looking it up.
      bytes = InetAddress.getByName("[" + address + "]").getAddress();
    } catch (UnknownHostException | SecurityException e) {
      return literal;
    }
    if (bytes.length == 4) {
      // The JDK turns an IPv4-mapped literal into its IPv4 address, as a socket reports the peer.
      return (bytes[0] & 0xff) + "." + (bytes[1] & 0xff) + "." + (bytes[2] & 0xff) + "." + (bytes[3] & 0xff);
    }
    StringBuilder text = new StringBuilder(41);
    appendIpv6(text, bytes);
    if (zone >= 0) {
      text.append(literal, zone, literal.length());
    }
    return text.toString();
  }

  /** Appends the 16 bytes of an IPv6 address in RFC 5952's form. */
  private static void appendIpv6(StringBuilder text, byte[] bytes) {
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
    }
    // The longest run of zero groups, two or more; the first of equal ones (RFC 5952 4.2.3).
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        text.append("::");
        i += bestLength - 1;
        continue;
      }
      if (i > 0 && i != bestStart + bestLength) {
        text.append(':');
      }
      text.append(Integer.toHexString(groups[i]));
    }
  }
}
