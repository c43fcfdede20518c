package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@link KernelTcp#awaitClientSettled}: against a loopback peer that holds its side open, read from
 * the kernel's table.
 */
class AwaitClientSettledTest {

  @Test
  void aClientThatClosedFirstAndIsStillClosingWhenTheBoundIsUpFails() throws IOException {
    KernelTcp.assumeReadable();
    try (ServerSocket server = freshServer(); Socket client = new Socket()) {
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 5_000);
      try (Socket accepted = server.accept()) {
        client.close(); // the client's FIN; the peer holds its side open: FIN_WAIT2
        // Before, the wait gave up silently here, and a TIME_WAIT count of 0 right after passed a
        // client that closed first (its TIME_WAIT comes once the peer closes).
        assertThatThrownBy(() -> KernelTcp.awaitClientSettled(server.getLocalPort(), Duration.ofMillis(200)))
            .isInstanceOf(AssertionError.class)
            .hasMessageStartingWith("1 client socket towards port " + server.getLocalPort()
                + " still closing after 200 ms (FIN_WAIT1 0, FIN_WAIT2 1, CLOSING 0)");
        assertThat(KernelTcp.clientTimeWait(server.getLocalPort())).isZero();
      }
    }
  }

  @Test
  void aClientWhosePeerClosedFirstSettlesWithoutTimeWait() throws IOException {
    KernelTcp.assumeReadable();
    try (ServerSocket server = freshServer(); Socket client = new Socket()) {
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()), 5_000);
      server.accept().close(); // the peer's FIN first
      client.setSoTimeout(5_000);
      assertThat(client.getInputStream().read()).isEqualTo(-1);
      client.close();
      KernelTcp.awaitClientSettled(server.getLocalPort(), Duration.ofSeconds(5));
      assertThat(KernelTcp.clientTimeWait(server.getLocalPort())).isZero();
    }
  }

  /** A listener on a port no earlier socket of this host is towards or from (the counts are exact). */
  private static ServerSocket freshServer() throws IOException {
    return KernelTcp.startOnFreshPorts(() -> new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
        ServerSocket::close, ServerSocket::getLocalPort);
  }
}
