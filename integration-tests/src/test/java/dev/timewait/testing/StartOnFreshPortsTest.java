package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Why a test that counts client TIME_WAIT towards its server starts that server on fresh ports,
 * reproduced: a client that closed first keeps TIME_WAIT towards the server's port for 60 s after
 * the server is gone, the port itself is free at once, and a later server that gets the same port
 * number (as {@code bind(0)} gave WireMock in a CI run) sees that TIME_WAIT as towards itself.
 */
class StartOnFreshPortsTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @Test
  @SuppressWarnings("try") // closes the peer early on purpose, inside its try
  void aServerOnAPortThatClientsClosedFirstTowardsSeesTheirTimeWaitAndIsNeverHandedOut()
      throws Exception {
    KernelTcp.assumeReadable();
    int q;
    int tuples;
    int seen;
    try (ClientClosesFirst earlier = ClientClosesFirst.start(1)) {
      q = earlier.ports().get(0);
      assertThat(earlier.run(30, Duration.ofSeconds(20))).isEqualTo(30);
      KernelTcp.awaitClientSettled(q, SETTLE);
      tuples = earlier.distinctTuples(q);
      earlier.close();

      // A later server on port q: a "no client TIME_WAIT towards my server" assertion would read
      // the earlier clients' TIME_WAIT and fail. Exact unless the host sent an RST meanwhile
      // (KernelTcp's notes: under CPU contention an RST can end a loopback TIME_WAIT early).
      try (ServerSocket later = new ServerSocket()) {
        later.setReuseAddress(true);
        later.bind(new InetSocketAddress(LOOPBACK, q), 50);
        seen = KernelTcp.clientTimeWait(q);
        assertThat(seen).as(KernelTcp.describe(q))
            .isPositive()
            .isBetween(earlier.leastTimeWait(q), tuples);
        assertThat(KernelTcp.isFresh(q)).isFalse();
      }
    }

    // The kit, offered port q first (what the kernel may choose), stops that server and starts
    // another: the server it returns has no client TIME_WAIT towards it.
    List<ServerSocket> started = new ArrayList<>();
    ServerSocket fresh = KernelTcp.startOnFreshPorts(() -> {
      ServerSocket s = new ServerSocket();
      started.add(s);
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(LOOPBACK, started.size() == 1 ? q : 0), 50);
      return s;
    }, ServerSocket::close, ServerSocket::getLocalPort);
    try (fresh) {
      assertThat(started.get(0).getLocalPort()).isEqualTo(q);
      assertThat(started.get(0).isClosed()).as("the server on the used port is stopped").isTrue();
      assertThat(fresh.getLocalPort()).isNotEqualTo(q);
      assertThat(KernelTcp.isFresh(fresh.getLocalPort())).isTrue();
      assertThat(KernelTcp.clientTimeWait(fresh.getLocalPort()))
          .as(KernelTcp.describe(fresh.getLocalPort())).isZero();
      assertThat(started.subList(0, started.size() - 1)).allMatch(ServerSocket::isClosed);
      assertThat(KernelTcp.clientTimeWait(q)).as("the earlier TIME_WAIT is still there")
          .isPositive().isLessThanOrEqualTo(seen);
    }
  }

  @Test
  void everyPortIsCheckedAndAfterTwentyUsedOnesItGivesUpHavingStoppedThemAll() throws Exception {
    KernelTcp.assumeReadable();
    // A port in use on both sides: a listener with a connection to it.
    try (ServerSocket busy = new ServerSocket(0, 50, LOOPBACK);
        Socket client = new Socket(LOOPBACK, busy.getLocalPort());
        Socket accepted = busy.accept()) {
      assertThat(accepted.getPort()).isEqualTo(client.getLocalPort());
      assertThat(KernelTcp.isFresh(busy.getLocalPort())).isFalse();
      List<ServerSocket> started = new ArrayList<>();

      assertThatThrownBy(() -> KernelTcp.startOnFreshPorts(() -> {
        ServerSocket s = new ServerSocket(0, 50, LOOPBACK);
        started.add(s);
        return s;
      }, ServerSocket::close, ServerSocket::getLocalPort, s -> busy.getLocalPort()))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("no server on fresh ports in 20 tries")
          .hasMessageContaining(Integer.toString(busy.getLocalPort()));
      assertThat(started).hasSize(20).allMatch(ServerSocket::isClosed);
    }
  }

  @Test
  void badArgumentsAreRejectedByName() {
    KernelTcp.ServerStart<ServerSocket> start = () -> new ServerSocket(0, 50, LOOPBACK);
    assertThatThrownBy(() -> KernelTcp.startOnFreshPorts(start, ServerSocket::close))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ports must name at least one port");
    assertThatThrownBy(() -> KernelTcp.<ServerSocket>startOnFreshPorts(null, ServerSocket::close,
        ServerSocket::getLocalPort))
        .isInstanceOf(NullPointerException.class).hasMessage("start cannot be null");
    assertThatThrownBy(() -> KernelTcp.<ServerSocket>startOnFreshPorts(() -> null,
        ServerSocket::close, ServerSocket::getLocalPort))
        .isInstanceOf(NullPointerException.class).hasMessage("the started server cannot be null");
  }
}
