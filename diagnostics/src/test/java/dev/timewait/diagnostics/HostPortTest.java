package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HostPortTest {

  @Test
  void anIpv4AddressIsWrittenAsIpColonPort() throws Exception {
    InetSocketAddress a = new InetSocketAddress(InetAddress.getByName("10.0.0.7"), 443);

    assertThat(HostPort.of(a)).isEqualTo("10.0.0.7:443");
  }

  @Test
  void anIpv6AddressIsPutInBracketsSoItsColonsDoNotRunIntoThePort() throws Exception {
    InetSocketAddress a = new InetSocketAddress(InetAddress.getByName("::1"), 8080);

    assertThat(HostPort.of(a)).isEqualTo("[::1]:8080");
    assertThat(HostPort.of("::1", 8080)).isEqualTo("[::1]:8080");
  }

  @Test
  void anIpv6LiteralIsWrittenInItsOneFormHoweverItWasSpelled() throws Exception {
    // The JDK writes a socket's IPv6 address uncompressed (0:0:0:0:0:0:0:1); a user names it
    // compressed (::1). Before, a close event's destination and a destination the user named
    // were two spellings of one address: two metric tags, two pairs of kernel gauges.
    assertThat(HostPort.of(new InetSocketAddress(InetAddress.getByName("2001:DB8:0:0:0:0:0:1"), 443)))
        .isEqualTo("[2001:db8::1]:443");
    assertThat(HostPort.of("2001:0db8:0000:0000:0001:0000:0000:0001", 443))
        .isEqualTo("[2001:db8::1:0:0:1]:443"); // the first of two equal runs (RFC 5952 4.2.3)
    assertThat(HostPort.of("2001:db8:0:1:1:1:1:1", 443)).isEqualTo("[2001:db8:0:1:1:1:1:1]:443");
    assertThat(HostPort.of("0:0:0:0:0:0:0:0", 80)).isEqualTo("[::]:80");
    assertThat(HostPort.of("fe80:0:0:0:0:0:0:1%eth0", 80)).isEqualTo("[fe80::1%eth0]:80");
    // IPv4-mapped: the IPv4 address a dual-stack JVM's socket reports for that peer.
    assertThat(HostPort.of("[::FFFF:10.0.0.7]", 80)).isEqualTo("10.0.0.7:80");
    assertThat(HostPort.of("not-an-ip:literal", 80)).isEqualTo("[not-an-ip:literal]:80"); // no lookup
    assertThat(HostPort.of("abc:def", 80)).isEqualTo("[abc:def]:80"); // hex, not an address: no lookup
  }

  @Test
  void anIpv6LiteralAlreadyInBracketsIsNotBracketedTwice() {
    assertThat(HostPort.of("[::1]", 8080)).isEqualTo("[::1]:8080");
  }

  @Test
  void anUnresolvedAddressIsWrittenWithTheHostNameItWasGiven() {
    InetSocketAddress a = InetSocketAddress.createUnresolved("lb.example", 443);

    assertThat(HostPort.of(a)).isEqualTo("lb.example:443");
  }

  @Test
  void aPortInWordsIsWrittenAsGiven() {
    assertThat(HostPort.of("fe80::1", "*")).isEqualTo("[fe80::1]:*");
    assertThat(HostPort.of("*", "*")).isEqualTo("*:*");
  }

  @Test
  void nullsAreRejectedByName() {
    assertThatThrownBy(() -> HostPort.of(null))
        .isInstanceOf(NullPointerException.class).hasMessage("address cannot be null");
    assertThatThrownBy(() -> HostPort.of(null, 1))
        .isInstanceOf(NullPointerException.class).hasMessage("host cannot be null");
  }
}
