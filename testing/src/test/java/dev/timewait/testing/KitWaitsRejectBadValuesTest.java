package dev.timewait.testing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.diagnostics.TcpState;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The testing kit's waits reject bad arguments by name and value before they read the kernel or
 * wait: a test's mistake fails at once instead of waiting out a wrong bound (or, past about 292
 * years, overflowing the nanosecond clock).
 */
class KitWaitsRejectBadValuesTest {
  private static final Duration SECOND = Duration.ofSeconds(1);

  @Test
  void kernelAwaitsNameAPortOutOfRange() {
    assertThatThrownBy(() -> KernelTcp.awaitServerTimeWait(0, 1, SECOND))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("serverPort must be between 1 and 65535, but was 0");
    assertThatThrownBy(() -> KernelTcp.awaitClient(TcpState.CLOSE_WAIT, 65536, 1, SECOND))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("serverPort must be between 1 and 65535, but was 65536");
    assertThatThrownBy(() -> KernelTcp.awaitClientSettled(-3, SECOND))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("serverPort must be between 1 and 65535, but was -3");
    assertThatThrownBy(() -> KernelTcp.serverTimeWait(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("serverPort must be between 1 and 65535, but was 0");
  }

  @Test
  void kernelAwaitsNameACountOrBoundOutOfRange() {
    assertThatThrownBy(() -> KernelTcp.awaitServerTimeWait(8080, -1, SECOND))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("atLeast must be >= 0, but was -1");
    assertThatThrownBy(() -> KernelTcp.awaitServerTimeWait(8080, 1, Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("bound must be >= 0, but was PT-0.001S");
    assertThatThrownBy(() -> KernelTcp.awaitClient(TcpState.CLOSE_WAIT, 8080, 1, Duration.ofHours(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("bound must be <= PT1H, but was PT2H");
    assertThatThrownBy(() -> KernelTcp.awaitClientSettled(8080, Duration.ofDays(400_000)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bound must be <= PT1H, but was PT9600000H");
  }

  @Test
  void kernelAwaitsNameANullArgument() {
    assertThatThrownBy(() -> KernelTcp.awaitServerTimeWait(8080, 1, null))
        .isInstanceOf(NullPointerException.class).hasMessage("bound cannot be null");
    assertThatThrownBy(() -> KernelTcp.awaitClient(null, 8080, 1, SECOND))
        .isInstanceOf(NullPointerException.class).hasMessage("state cannot be null");
    assertThatThrownBy(() -> KernelTcp.awaitClientSettled(8080, null))
        .isInstanceOf(NullPointerException.class).hasMessage("bound cannot be null");
  }

  @Test
  void clientClosesFirstNamesACountOrBoundOutOfRange() throws Exception {
    assertThatThrownBy(() -> ClientClosesFirst.start(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("ports must be > 0, but was 0");
    try (ClientClosesFirst peer = ClientClosesFirst.start(1)) { // one loopback listener, no connection
      assertThatThrownBy(() -> peer.run(0, SECOND))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("connections must be > 0, but was 0");
      assertThatThrownBy(() -> peer.run(1, Duration.ofHours(2)))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("bound must be <= PT1H, but was PT2H");
      assertThatThrownBy(() -> peer.run(1, null))
          .isInstanceOf(NullPointerException.class).hasMessage("bound cannot be null");
    }
  }

  @Test
  void aRawPeerNamesABadBehaviourOrDelayBeforeItListens() {
    // Before: accepted; on the peer's thread a negative delay cut the connection, and one past
    // Integer.MAX_VALUE ms, cast to a read timeout of 0, made an idle close wait for ever.
    assertThatThrownBy(() -> RawHttpPeer.start(null, SECOND, false))
        .isInstanceOf(NullPointerException.class).hasMessage("behaviour cannot be null");
    assertThatThrownBy(() -> RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, null, false))
        .isInstanceOf(NullPointerException.class).hasMessage("lateCloseDelay cannot be null");
    assertThatThrownBy(() -> RawHttpPeer.start(RawHttpPeer.Behaviour.CLOSE_LATE, Duration.ofMillis(-1), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lateCloseDelay must be >= 0, but was PT-0.001S");
    assertThatThrownBy(() -> RawHttpPeer.start(RawHttpPeer.Behaviour.IDLE_CLOSE, Duration.ofMillis(4_294_967_296L), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lateCloseDelay must be <= PT30S, but was PT1193H2M47.296S");
  }
}
