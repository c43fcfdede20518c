package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.diagnostics.TcpState;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableConnectionsTest {
  private static final String HEADER = "  sl  local_address                         remote_address"
      + "                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

  private static String line(int sl, String local, String remote, String state, int inode) {
    return String.format("%4d: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 %d 1"
        + " 0000000000000000 20 4 30 10 -1%n", sl, local, remote, state, inode);
  }

  @Test
  void aSocketTheScanListsTwiceCountsOnce(@TempDir Path dir) throws Exception {
    // As a scan read under load: 127.0.0.1:40004 -> 127.0.0.1:8081 listed three times (the
    // kernel resumed a read before it), one other connection, a TIME_WAIT and the listener.
    String repeated = line(3, "0000000000000000FFFF00000100007F:9C44",
        "0000000000000000FFFF00000100007F:1F91", "01", 5551);
    Path tcp6 = Files.writeString(dir.resolve("tcp6"), HEADER
        + line(0, "0000000000000000FFFF00000100007F:1F91", "00000000000000000000000000000000:0000", "0A", 31337)
        + repeated
        + line(4, "0000000000000000FFFF00000100007F:9C46", "0000000000000000FFFF00000100007F:1F91", "01", 5552)
        + repeated
        + line(5, "0000000000000000FFFF00000100007F:9C48", "0000000000000000FFFF00000100007F:1F91", "06", 0)
        + repeated);
    Path tcp = Files.writeString(dir.resolve("tcp"), HEADER
        + line(0, "0100007F:9C50", "0100007F:1F91", "01", 6001));

    var established = TableConnections.read(List.of(tcp, tcp6), TcpState.ESTABLISHED, 8081);

    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    InetSocketAddress server = new InetSocketAddress(loopback, 8081);
    assertThat(established).containsExactlyInAnyOrder(
        new KernelTcp.Connection(new InetSocketAddress(loopback, 0x9C44), server),
        new KernelTcp.Connection(new InetSocketAddress(loopback, 0x9C46), server),
        new KernelTcp.Connection(new InetSocketAddress(loopback, 0x9C50), server));
    assertThat(TableConnections.read(List.of(tcp6), TcpState.TIME_WAIT, 8081)).hasSize(1);
    assertThat(TableConnections.read(List.of(tcp6), TcpState.ESTABLISHED, 8082)).isEmpty();
    assertThat(TableConnections.read(List.of(dir.resolve("missing")), TcpState.ESTABLISHED, 8081)).isEmpty();
  }

  @Test
  void readsTheLiveConnectionsOfThisProcessFromTheKernel() throws Exception {
    KernelTcp.assumeReadable();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Socket a = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket b = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket acceptedA = server.accept();
        Socket acceptedB = server.accept()) {
      assertThat(List.of(acceptedA.getPort(), acceptedB.getPort()))
          .containsExactlyInAnyOrder(a.getLocalPort(), b.getLocalPort());
      assertThat(KernelTcp.clientConnections(TcpState.ESTABLISHED, server.getLocalPort()))
          .extracting(c -> c.local().getPort())
          .containsExactlyInAnyOrder(a.getLocalPort(), b.getLocalPort());
      assertThat(KernelTcp.client(TcpState.ESTABLISHED, server.getLocalPort())).isEqualTo(2);
    }
  }
}
