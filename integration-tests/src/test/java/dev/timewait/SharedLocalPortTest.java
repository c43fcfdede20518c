package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Two connections to one server from one local port, told apart only by their local addresses
 * (127.0.0.2 and 127.0.0.1): Linux checks bind conflicts per local address, which is how binding
 * several source addresses multiplies the port space. The factory keys its connections by local
 * port and remote endpoint, and compares local addresses only for keys that share those (it asks
 * the kernel for an address only then), so both connections must be tracked, found by socket
 * (plain and beneath TLS) and by endpoints, armed and closed each on its own.
 */
class SharedLocalPortTest {
  private static final InetAddress FIRST = address("127.0.0.2");
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @BeforeEach
  void needsKernelTable() {
    KernelTcp.assumeReadable();
  }

  /**
   * {@code secondBind} 127.0.0.1: both sockets bound to their addresses, which the factory notes
   * at bind. 0.0.0.0: the second is bound to the wildcard (both with SO_REUSEADDR, so that the
   * kernel lets the port be shared), so the kernel chooses its source address at connect and the
   * factory learns it only when the two keys meet.
   */
  @ParameterizedTest(name = "tls={0}, second bound to {1}")
  @CsvSource({"false, 127.0.0.1", "false, 0.0.0.0", "true, 127.0.0.1", "true, 0.0.0.0"})
  void twoConnectionsSharingLocalPortAndServerAreTrackedArmedAndClosedEachOnItsOwn(
      boolean tls, String secondBind) throws Exception {
    KernelCounters before = KernelCounters.read();
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.KEEP_ALIVE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), peer.port());
      boolean wildcard = address(secondBind).isAnyLocalAddress();
      TimeWaitSocket rawFirst = null;
      TimeWaitSocket rawSecond = null;
      for (int attempt = 0; rawSecond == null && attempt < 20; attempt++) {
        rawFirst = bound(factory, new InetSocketAddress(FIRST, 0), wildcard);
        try {
          rawSecond = bound(factory,
              new InetSocketAddress(address(secondBind), rawFirst.getLocalPort()), wildcard);
        } catch (BindException e) {
          rawFirst.close(); // another socket holds that port on 127.0.0.1: take another
        }
      }
      assertThat(rawSecond).as("a local port free on both addresses").isNotNull();
      rawFirst.connect(server);
      rawSecond.connect(server);
      Socket first = layered(rawFirst, peer.port(), tls);
      Socket second = layered(rawSecond, peer.port(), tls);
      SocketAddress firstLocal = first.getLocalSocketAddress();
      SocketAddress secondLocal = second.getLocalSocketAddress();

      assertThat(first.getLocalPort()).isEqualTo(second.getLocalPort());
      assertThat(first.getLocalAddress()).isEqualTo(FIRST);
      assertThat(second.getLocalAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
      assertThat(factory.openConnections()).isEqualTo(2);
      try {
        SocketLayerTest.roundTrip(second, false); // keep-alive: this one closes unarmed (reset)
        SocketLayerTest.roundTrip(first, true); // the server answers and closes first

        assertThat(factory.owns(first)).isTrue();
        assertThat(factory.owns(second)).isTrue();
        assertThat(factory.owns(firstLocal, server)).isTrue();
        assertThat(factory.owns(secondLocal, server)).isTrue();
        assertThat(tls ? factory.arm(first) : factory.arm(firstLocal, server)).isTrue();
        assertThat(rawFirst.isArmed()).isTrue();
        assertThat(rawSecond.isArmed()).as("armed through the other connection").isFalse();

        first.close();
        assertThat(factory.openConnections()).isEqualTo(1);
        assertThat(factory.owns(firstLocal, server)).isFalse();
        assertThat(factory.owns(secondLocal, server)).isTrue();
        assertThat(factory.owns(second)).isTrue();
        assertThat(rawFirst.getLocalAddress().isAnyLocalAddress())
            .as("closed: the wildcard, as Socket answers").isTrue();
      } finally {
        first.close();
        second.close();
      }
      assertThat(factory.openConnections()).isZero();
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(KernelTcp.clientTimeWait(peer.port())).as(KernelTcp.describe(peer.port())).isZero();
      assertThat(KernelTcp.awaitServerTimeWait(peer.port(), 1, SETTLE))
          .isBetween(1 - KernelTcp.strayResetsSince(before), 1);
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(2, 1, 1, 0, 0, 0, 0, 0));
    }
  }

  private static TimeWaitSocket bound(TimeWaitSocketFactory factory, InetSocketAddress local,
      boolean reuseAddress) throws IOException {
    TimeWaitSocket socket = (TimeWaitSocket) factory.createSocket();
    try {
      socket.setReuseAddress(reuseAddress);
      socket.bind(local);
      return socket;
    } catch (BindException e) {
      socket.close();
      if (local.getAddress().equals(FIRST) && local.getPort() == 0) {
        Assumptions.abort("127.0.0.2 cannot be bound here: " + e.getMessage());
      }
      throw e;
    }
  }

  private static Socket layered(Socket raw, int port, boolean tls) throws IOException {
    return SocketLayerTest.layer(raw, port, tls);
  }

  private static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (IOException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }
}
