package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.diagnostics.KernelCounters;
import dev.timewait.diagnostics.TcpState;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Why a test that counts the TIME_WAIT it made allows for the host's stray RSTs ({@link
 * KernelTcp#strayResetsSince}), reproduced on purpose: a segment on a TIME_WAIT's tuple ends it,
 * with no TIME_WAIT counter moving and one stray RST sent (no abortive close's). In CI the segment
 * was a delayed ACK that left after its own side's FIN (the notes of {@link KernelTcp}); here it
 * is a SYN from the server's port.
 */
class StrayResetsSinceTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration SETTLE = Duration.ofSeconds(5);

  @Test
  @SuppressWarnings("try") // closes the peer early on purpose, inside its try
  void aTimeWaitEndedByASegmentOnItsTupleIsCoveredByTheResetsTheHostSent() throws Exception {
    KernelTcp.assumeReadable();
    try (ClientClosesFirst peer = ClientClosesFirst.start(1)) {
      int q = peer.ports().get(0);
      assertThat(peer.run(5, Duration.ofSeconds(20))).isEqualTo(5);
      KernelTcp.awaitClientSettled(q, SETTLE);
      Set<KernelTcp.Connection> timeWait = KernelTcp.clientConnections(TcpState.TIME_WAIT, q);
      assertThat(timeWait).hasSize(peer.distinctTuples(q));
      int victim = timeWait.iterator().next().local().getPort();
      peer.close(); // frees port q: nothing listens there any more

      // From port q to the client's port: the client's TIME_WAIT is the socket that segment
      // reaches. Linux ends it either way: a SYN it takes for a new connection ends it at once
      // (and, nothing listening on the client's port, an RST answers the SYN); an old-looking SYN
      // gets an ACK, which this connecting socket answers with an RST, in window.
      KernelCounters before = KernelCounters.read();
      try (Socket s = new Socket()) {
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(LOOPBACK, q));
        s.connect(new InetSocketAddress(LOOPBACK, victim), 3_000);
      } catch (IOException expected) {
        // refused (or timed out): nothing listens on the client's port
      }

      int left = KernelTcp.clientTimeWait(q);
      assertThat(left).as(KernelTcp.describe(q)).isEqualTo(peer.distinctTuples(q) - 1);
      assertThat(KernelTcp.strayResetsSince(before)).isPositive(); // the RST no close sent
      assertThat(left).isBetween(peer.leastTimeWait(q), peer.distinctTuples(q));
    }
  }

  @Test
  void theResetsOfAbortiveClosesAreNotStray() throws Exception {
    KernelTcp.assumeReadable();
    int resets = 10;
    KernelCounters before = KernelCounters.read();
    try (ServerSocket server = new ServerSocket(0, 50, LOOPBACK)) {
      for (int i = 0; i < resets; i++) {
        try (Socket client = new Socket(LOOPBACK, server.getLocalPort());
            Socket accepted = server.accept()) {
          assertThat(accepted.isConnected()).isTrue();
          client.setSoLinger(true, 0); // close() sends an RST: TcpExt.TCPAbortOnData
        }
      }
    }
    KernelCounters delta = KernelCounters.read().minus(before);
    assertThat(delta.outRsts()).isGreaterThanOrEqualTo(resets);
    assertThat(delta.abortOnData()).isGreaterThanOrEqualTo(resets);
    // Other processes may send stray RSTs meanwhile; these ten are never counted as such.
    assertThat(KernelTcp.strayResetsSince(before)).isLessThan(resets);
  }

  @Test
  void strayResetsSinceIsUnboundedWithoutCountersAndRejectsANullReadingByName() {
    KernelTcp.assumeReadable();
    KernelCounters now = KernelCounters.read();
    assertThat(KernelTcp.strayResetsSince(now)).isGreaterThanOrEqualTo(0);
    assertThat(KernelTcp.strayResetsSince(KernelCounters.unsupported("unsupported on this OS: test")))
        .isEqualTo(Integer.MAX_VALUE);
    assertThatThrownBy(() -> KernelTcp.strayResetsSince(null))
        .isInstanceOf(NullPointerException.class).hasMessage("before cannot be null");
  }
}
