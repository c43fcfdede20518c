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

    assertThat(HostPort.of(a)).isEqualTo("[0:0:0:0:0:0:0:1]:8080");
    assertThat(HostPort.of("::1", 8080)).isEqualTo("[::1]:8080");
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
