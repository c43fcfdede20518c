package dev.timewait.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.TimeWaitSocketFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class CountingTest {
  @Test
  void anAdapterCountsOpensIdleClosesAndRetriesOntoTheClientsAccounting() {
    CloseAccounting accounting = new CloseAccounting();
    Counting.opened(accounting);
    Counting.closedIdleByPeer(accounting);
    Counting.staleRetry(accounting);
    Counting.staleRetry(accounting);
    CloseOutcome.AFTER_PEER_FIN.recordOn(accounting);
    CloseStats stats = accounting.snapshot();
    assertThat(stats.connectionsOpened()).isEqualTo(1);
    assertThat(stats.closedIdleByPeer()).isEqualTo(1);
    assertThat(stats.staleRetries()).isEqualTo(2);
    assertThat(stats.open()).isZero();
  }

  @Test
  void socketControlAnswersNoForAConnectionTheFactoryDidNotMake() {
    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.serverClose());
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 40000);
    InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 80);
    assertThat(SocketControl.arm(factory, new Socket())).isFalse();
    assertThat(SocketControl.arm(factory, local, remote, null)).isFalse();
    assertThat(SocketControl.owns(factory, local, remote)).isFalse();
    assertThat(SocketControl.ageNanos(factory, local, remote)).isEqualTo(-1);
    assertThat(SocketControl.markResponse(factory, new Socket())).isNull();
  }

  @Test
  void nullsAreRejectedByName() {
    assertThatThrownBy(() -> Counting.opened(null)).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> CloseOutcome.RESET.recordOn(null)).hasMessage("accounting cannot be null");
    assertThatThrownBy(() -> SocketControl.arm(null, new Socket())).hasMessage("factory cannot be null");
    assertThatThrownBy(() -> SocketControl.arm(TimeWaitSocketFactory.observing(), null))
        .hasMessage("socket cannot be null");
    InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 80);
    assertThatThrownBy(() -> SocketControl.ageNanos(TimeWaitSocketFactory.observing(), null, remote))
        .isInstanceOf(NullPointerException.class).hasMessage("local cannot be null");
    assertThatThrownBy(() -> SocketControl.ageNanos(TimeWaitSocketFactory.observing(), remote, null))
        .isInstanceOf(NullPointerException.class).hasMessage("remote cannot be null");
  }

  @Test
  void aRequestCountUnderOneIsRejectedByNameAndValue() {
    assertThatThrownBy(() -> SocketControl.noteRequest(TimeWaitSocketFactory.observing(), new Socket(), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requestsIncludingThis must be > 0, but was 0");
  }
}
