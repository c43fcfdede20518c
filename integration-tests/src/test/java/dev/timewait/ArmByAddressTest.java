package dev.timewait;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.testing.KernelTcp;
import dev.timewait.testing.RawHttpPeer;
import dev.timewait.testing.RawHttpPeer.Behaviour;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TimeWaitSocketFactory#arm(java.net.SocketAddress, java.net.SocketAddress)} and {@link
 * TimeWaitSocketFactory#owns(java.net.SocketAddress, java.net.SocketAddress)}: finding a
 * connection by its endpoints, for clients that expose those but not the socket.
 */
class ArmByAddressTest {
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {false, true})
  void armByEndpointsFindsTheConnectionAndItsCloseLeavesTimeWaitOnTheServer(boolean tls)
      throws Exception {
    KernelTcp.assumeReadable();
    KernelCounters before = KernelCounters.read();
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.CLOSE_AFTER_RESPONSE, Duration.ZERO, tls)) {
      TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      Socket socket = SocketLayerTest.open(factory, peer.port(), tls);
      try {
        SocketLayerTest.roundTrip(socket, true);
        assertThat(factory.owns(socket.getLocalSocketAddress(), socket.getRemoteSocketAddress()))
            .isTrue();
        assertThat(factory.arm(socket.getLocalSocketAddress(), socket.getRemoteSocketAddress()))
            .isTrue();
      } finally {
        socket.close();
      }
      KernelTcp.awaitClientSettled(peer.port(), SETTLE);

      assertThat(KernelTcp.clientTimeWait(peer.port())).isZero();
      assertThat(KernelTcp.awaitServerTimeWait(peer.port(), 1, SETTLE))
          .isBetween(1 - KernelTcp.strayResetsSince(before), 1);
      assertThat(factory.accounting().snapshot()).isEqualTo(new CloseStats(1, 1, 0, 0, 0, 0, 0, 0));
      assertThat(factory.owns(socket.getLocalSocketAddress(), socket.getRemoteSocketAddress()))
          .isFalse();
    }
  }

  @Test
  void armByEndpointsIsFalseForUnknownEndpointsAndForResetFactories() throws Exception {
    try (RawHttpPeer peer = RawHttpPeer.start(Behaviour.AWAIT_CLIENT_CLOSE)) {
      TimeWaitSocketFactory reset = TimeWaitSocketFactory.create(CloseStrategy.reset());
      TimeWaitSocketFactory serverClose = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
      try (Socket socket = SocketLayerTest.open(reset, peer.port(), false)) {
        var local = socket.getLocalSocketAddress();
        var remote = socket.getRemoteSocketAddress();
        assertThat(reset.owns(local, remote)).isTrue();
        assertThat(reset.arm(local, remote)).isFalse();
        assertThat(serverClose.owns(local, remote)).isFalse();
        assertThat(serverClose.arm(local, remote)).isFalse();
        assertThat(serverClose.arm(InetSocketAddress.createUnresolved("localhost", 1), remote))
            .isFalse();
      }
    }
  }

  @Test
  void armByEndpointsRejectsNullsWithTheirNames() {
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 1);
    assertThatThrownBy(() -> factory.arm(null, any))
        .isInstanceOf(NullPointerException.class).hasMessage("localAddress cannot be null");
    assertThatThrownBy(() -> factory.arm(any, null))
        .isInstanceOf(NullPointerException.class).hasMessage("remoteAddress cannot be null");
    assertThatThrownBy(() -> factory.owns(null, any))
        .isInstanceOf(NullPointerException.class).hasMessage("localAddress cannot be null");
  }
}
