package dev.timewait.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import org.junit.jupiter.api.Test;

class CloseOutcomeTest {
  private static CloseStats recorded(CloseOutcome outcome) {
    CloseAccounting accounting = new CloseAccounting();
    outcome.recordOn(accounting);
    return accounting.snapshot();
  }

  @Test
  void everyOutcomeCountsExactlyOneClose() {
    for (CloseOutcome outcome : CloseOutcome.values()) {
      CloseStats stats = recorded(outcome);
      assertThat(stats.closedAfterPeerFin() + stats.closedByReset() + stats.closedLocallyFirst())
          .as(outcome.name()).isEqualTo(1);
    }
  }

  @Test
  void onlyTheServersFinFirstLeavesTheTimeWaitOnTheServer() {
    assertThat(recorded(CloseOutcome.AFTER_PEER_FIN).closedAfterPeerFin()).isEqualTo(1);
    assertThat(recorded(CloseOutcome.LOCAL_FIRST).closedLocallyFirst()).isEqualTo(1);
    for (CloseOutcome reset : new CloseOutcome[] {CloseOutcome.RESET, CloseOutcome.PEER_RESET,
        CloseOutcome.UNREAD_DATA, CloseOutcome.FIN_WAIT_TIMEOUT, CloseOutcome.FIN_WAIT_ABORTED}) {
      assertThat(recorded(reset).closedByReset()).as(reset.name()).isEqualTo(1);
    }
  }

  @Test
  void aFinWaitThatTimesOutOrIsAbortedIsCountedAsSuchBesideItsReset() {
    CloseStats timeout = recorded(CloseOutcome.FIN_WAIT_TIMEOUT);
    assertThat(timeout.finWaitTimeouts()).isEqualTo(1);
    assertThat(timeout.finWaitAborts()).isZero();
    CloseStats abort = recorded(CloseOutcome.FIN_WAIT_ABORTED);
    assertThat(abort.finWaitAborts()).isEqualTo(1);
    assertThat(abort.finWaitTimeouts()).isZero();
    assertThat(recorded(CloseOutcome.RESET).finWaitTimeouts()).isZero();
  }

  @Test
  void aFinWaitDrainsAtMost64KiB() {
    assertThat(CloseOutcome.MAX_DRAIN_BYTES).isEqualTo(64 * 1024);
  }
}
