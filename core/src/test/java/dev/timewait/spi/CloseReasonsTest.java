package dev.timewait.spi;

import static dev.timewait.spi.CloseReasons.EXCHANGE_CUT;
import static dev.timewait.spi.CloseReasons.IDLE;
import static dev.timewait.spi.CloseReasons.PEER_CLOSED_WHILE_IDLE;
import static dev.timewait.spi.CloseReasons.SHUTTING_DOWN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.timewait.CloseEvent.Reason;
import dev.timewait.CloseStrategy.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CloseReasonsTest {
  private static final int EVERYTHING = EXCHANGE_CUT | SHUTTING_DOWN | PEER_CLOSED_WHILE_IDLE | IDLE;

  private static Reason pooled(Reason retireReason, int facts) {
    return CloseReasons.decide(Kind.POOLED, CloseOutcome.RESET, retireReason, facts);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aFinWaitThatRanOutOfTimeIsTheTimeoutWhateverElseWasSeen(Kind kind) {
    assertThat(CloseReasons.decide(kind, CloseOutcome.FIN_WAIT_TIMEOUT, Reason.REQUEST_CAP, EVERYTHING))
        .isEqualTo(Reason.FIN_WAIT_TIMEOUT);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aFinWaitCutShortIsAnAbortedExchangeEvenWhenTheClientShutsDown(Kind kind) {
    assertThat(CloseReasons.decide(kind, CloseOutcome.FIN_WAIT_ABORTED, Reason.LIFETIME, EVERYTHING))
        .isEqualTo(Reason.EXCHANGE_ABORTED);
  }

  @Test
  void anObservingFactorysCloseIsUnknownUnlessItsFinWaitSaysOtherwise() {
    assertThat(CloseReasons.decide(null, CloseOutcome.LOCAL_FIRST, null, EVERYTHING))
        .isEqualTo(Reason.UNKNOWN);
    assertThat(CloseReasons.decide(null, CloseOutcome.FIN_WAIT_TIMEOUT, null, 0))
        .isEqualTo(Reason.FIN_WAIT_TIMEOUT);
  }

  @Test
  void thePeersCloseOfAnIdlePooledConnectionComesBeforeACutExchangeAndTheShutdown() {
    assertThat(pooled(Reason.PEER_CLOSED_IDLE, EVERYTHING)).isEqualTo(Reason.PEER_CLOSED_IDLE);
    assertThat(pooled(null, PEER_CLOSED_WHILE_IDLE | EXCHANGE_CUT | SHUTTING_DOWN))
        .isEqualTo(Reason.PEER_CLOSED_IDLE);
  }

  @Test
  void aPeersFinWhileIdleDoesNotReplaceAReasonDecidedBefore() {
    assertThat(pooled(Reason.REQUEST_CAP, PEER_CLOSED_WHILE_IDLE | IDLE)).isEqualTo(Reason.REQUEST_CAP);
    assertThat(pooled(Reason.PEER_ANNOUNCED, PEER_CLOSED_WHILE_IDLE | IDLE))
        .isEqualTo(Reason.PEER_ANNOUNCED);
  }

  @Test
  void thePeersCloseAsALastRequestCameIsThePeersNotTheReasonDecidedAsItWentOut() {
    // The stale race on a connection's last request: the peer closed it idle as the request came.
    for (Reason decided : new Reason[] {Reason.REQUEST_CAP, Reason.LIFETIME, Reason.CALLER_ASKED}) {
      assertThat(pooled(decided, PEER_CLOSED_WHILE_IDLE | EXCHANGE_CUT)).as("%s", decided)
          .isEqualTo(Reason.PEER_CLOSED_IDLE);
    }
    // The peer's announcement is the peer's already; and no cut, no race: the answer came first.
    assertThat(pooled(Reason.PEER_ANNOUNCED, PEER_CLOSED_WHILE_IDLE | EXCHANGE_CUT))
        .isEqualTo(Reason.EXCHANGE_ABORTED);
    assertThat(pooled(Reason.REQUEST_CAP, PEER_CLOSED_WHILE_IDLE)).isEqualTo(Reason.REQUEST_CAP);
  }

  @Test
  void aCutPooledExchangeIsAbortedOrTheShutdownThatCutItBeforeTheReasonDecided() {
    assertThat(pooled(Reason.REQUEST_CAP, EXCHANGE_CUT)).isEqualTo(Reason.EXCHANGE_ABORTED);
    assertThat(pooled(Reason.LIFETIME, EXCHANGE_CUT | SHUTTING_DOWN)).isEqualTo(Reason.SHUTDOWN);
    assertThat(pooled(null, EXCHANGE_CUT | IDLE)).isEqualTo(Reason.EXCHANGE_ABORTED);
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"SERVER_CLOSE", "RESET"})
  void serverCloseAndResetCloseForTheStrategyUnlessTheExchangeWasCut(Kind kind) {
    assertThat(CloseReasons.decide(kind, CloseOutcome.AFTER_PEER_FIN, Reason.STRATEGY, 0))
        .isEqualTo(Reason.STRATEGY);
    assertThat(CloseReasons.decide(kind, CloseOutcome.RESET, null, IDLE | SHUTTING_DOWN
        | PEER_CLOSED_WHILE_IDLE)).as("nothing else matters").isEqualTo(Reason.STRATEGY);
    assertThat(CloseReasons.decide(kind, CloseOutcome.RESET, Reason.STRATEGY, EXCHANGE_CUT))
        .isEqualTo(Reason.EXCHANGE_ABORTED);
    assertThat(CloseReasons.decide(kind, CloseOutcome.RESET, Reason.STRATEGY,
        EXCHANGE_CUT | SHUTTING_DOWN)).isEqualTo(Reason.SHUTDOWN);
  }

  @Test
  void aPooledConnectionsDecidedReasonStandsThoughTheClientShutsDownLater() {
    assertThat(pooled(Reason.REQUEST_CAP, 0)).isEqualTo(Reason.REQUEST_CAP);
    assertThat(pooled(Reason.LIFETIME, SHUTTING_DOWN | IDLE)).isEqualTo(Reason.LIFETIME);
    assertThat(pooled(Reason.PEER_ANNOUNCED, SHUTTING_DOWN)).isEqualTo(Reason.PEER_ANNOUNCED);
    assertThat(pooled(Reason.IDLE_EVICTION, SHUTTING_DOWN)).isEqualTo(Reason.IDLE_EVICTION);
  }

  @Test
  void aPooledConnectionWithoutAReasonClosedWhileTheClientShutsDownIsTheShutdownEvenWhenIdle() {
    assertThat(pooled(null, SHUTTING_DOWN | IDLE)).isEqualTo(Reason.SHUTDOWN);
    assertThat(pooled(null, SHUTTING_DOWN)).isEqualTo(Reason.SHUTDOWN);
  }

  @Test
  void anIdlePooledConnectionClosedWithoutAReasonIsThePoolsIdleEviction() {
    assertThat(pooled(null, IDLE)).isEqualTo(Reason.IDLE_EVICTION);
    assertThat(CloseReasons.decide(Kind.POOLED, CloseOutcome.LOCAL_FIRST, null, IDLE))
        .isEqualTo(Reason.IDLE_EVICTION);
  }

  @Test
  void aPooledCloseThatNothingExplainsIsUnknown() {
    assertThat(pooled(null, 0)).isEqualTo(Reason.UNKNOWN);
    assertThat(CloseReasons.decide(Kind.POOLED, CloseOutcome.AFTER_PEER_FIN, null, 0))
        .isEqualTo(Reason.UNKNOWN);
  }

  @Test
  void anOutcomeIsRequired() {
    assertThatThrownBy(() -> CloseReasons.decide(Kind.POOLED, null, null, 0))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("outcome");
  }
}
