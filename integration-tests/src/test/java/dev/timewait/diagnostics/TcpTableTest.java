package dev.timewait.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.testing.KernelTcp;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TcpTableTest {
  private static Path fixture(String name) throws URISyntaxException {
    return Path.of(TcpTableTest.class.getResource("/fixtures/" + name).toURI());
  }

  @Test
  void countsIpv4EntriesByStateForEachSideOfAPort() throws Exception {
    TcpTable table = TcpTable.of(fixture("tcp"));
    assertThat(table.count(TcpFilter.remotePort(8080)).asMap()).containsOnly(
        java.util.Map.entry(TcpState.TIME_WAIT, 2));
    assertThat(table.count(TcpFilter.localPort(8080)).asMap()).containsOnly(
        java.util.Map.entry(TcpState.LISTEN, 1), java.util.Map.entry(TcpState.TIME_WAIT, 1));
    assertThat(table.count(TcpFilter.any()).total()).isEqualTo(5);
    assertThat(table.count(TcpState.ESTABLISHED,
        TcpFilter.remote(new InetSocketAddress(InetAddress.getByName("34.216.184.93"), 443)))).isEqualTo(1);
  }

  @Test
  void decodesIpv4MappedAndNativeIpv6Addresses() throws Exception {
    TcpTable table = TcpTable.of(fixture("tcp"), fixture("tcp6"));
    InetSocketAddress loopback4 = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8081);
    // ::ffff:127.0.0.1 entries match an IPv4 filter
    assertThat(table.count(TcpState.TIME_WAIT, TcpFilter.remote(loopback4))).isEqualTo(1);
    assertThat(table.count(TcpState.ESTABLISHED, TcpFilter.remote(loopback4))).isEqualTo(1);
    assertThat(table.count(TcpState.TIME_WAIT, TcpFilter.local(loopback4))).isEqualTo(1);
    // ::1
    InetSocketAddress loopback6 = new InetSocketAddress(InetAddress.getByName("::1"), 8082);
    assertThat(table.count(TcpState.TIME_WAIT, TcpFilter.remote(loopback6))).isEqualTo(1);
    assertThat(table.count(TcpState.TIME_WAIT, TcpFilter.remote(
        new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8082)))).isZero();
    // 2001:db8::2
    assertThat(table.count(TcpState.CLOSE_WAIT, TcpFilter.remote(
        new InetSocketAddress(InetAddress.getByName("2001:db8::2"), 443)))).isEqualTo(1);
    assertThat(table.count(TcpState.CLOSE_WAIT, TcpFilter.local(
        new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 0xA002)))).isEqualTo(1);
    assertThat(table.count(TcpFilter.any()).total()).isEqualTo(11);
  }

  @Test
  void missingTablesAreReportedAsUnsupportedNotThrown() {
    TcpCounts counts = TcpTable.of(Path.of("/nonexistent/tcp")).count(TcpFilter.any());
    assertThat(counts.supported()).isFalse();
    assertThat(counts.unsupportedReason()).hasValueSatisfying(r -> assertThat(r).startsWith("unsupported on this OS"));
    assertThat(counts.timeWait()).isZero();
  }

  @Test
  void seesALiveConnectionOfThisJvmInTheKernelTable() throws Exception {
    KernelTcp.assumeReadable();
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      TcpTable table = TcpTable.system();
      assertThat(table.count(TcpState.ESTABLISHED, TcpFilter.remotePort(server.getLocalPort()))).isEqualTo(1);
      assertThat(table.count(TcpState.ESTABLISHED, TcpFilter.remote(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort())))).isEqualTo(1);
      assertThat(table.count(TcpState.LISTEN, TcpFilter.localPort(server.getLocalPort()))).isEqualTo(1);
      InetSocketAddress clientSide = new InetSocketAddress(client.getLocalAddress(), client.getLocalPort());
      InetSocketAddress serverSide = new InetSocketAddress(client.getInetAddress(), client.getPort());
      assertThat(table.count(TcpState.ESTABLISHED, TcpFilter.connection(clientSide, serverSide))).isEqualTo(1);
      assertThat(table.count(TcpState.ESTABLISHED, TcpFilter.connection(serverSide, clientSide))).isEqualTo(1);
      assertThat(table.count(TcpFilter.connection(clientSide,
          new InetSocketAddress(client.getInetAddress(), server.getLocalPort() == 65535 ? 1 : server.getLocalPort() + 1)))
          .total()).isZero();
      assertThat(accepted.isConnected()).isTrue();
    }
  }
}
