package dev.timewait.spi;

import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.internal.Preconditions;

/**
 * Why a connection closed (its close record's {@link CloseEvent.Reason}), decided for every adapter
 * and the socket layer from what they saw: the outcome, the reason decided for the connection
 * before (its retire reason) and facts passed as bits, so that a close allocates nothing. First
 * match wins:
 *
 * <ol>
 *   <li>the FIN wait's own end: {@link CloseOutcome#FIN_WAIT_TIMEOUT} is {@code FIN_WAIT_TIMEOUT},
 *       {@link CloseOutcome#FIN_WAIT_ABORTED} is {@code EXCHANGE_ABORTED};
 *   <li>no strategy (an observing factory): {@code UNKNOWN};
 *   <li>pooled: the peer's close of an idle connection ({@code PEER_CLOSED_IDLE} as the retire
 *       reason, or {@link #PEER_CLOSED_WHILE_IDLE} with none, or with one the client decided as
 *       its last request went out, {@code REQUEST_CAP}, {@code LIFETIME} or {@code CALLER_ASKED},
 *       where that exchange was cut: the peer closed the idle connection as the request came);
 *   <li>an exchange cut or failed ({@link #EXCHANGE_CUT}): {@code SHUTDOWN} if the client was
 *       shutting down, else {@code EXCHANGE_ABORTED};
 *   <li>server close and reset: {@code STRATEGY};
 *   <li>pooled: the retire reason (the last request's cap or lifetime, the peer's announcement),
 *       even once the client shuts down: it was decided before;
 *   <li>{@link #SHUTTING_DOWN}: {@code SHUTDOWN};
 *   <li>{@link #IDLE}: {@code IDLE_EVICTION} (only the pool closes an idle connection unasked);
 *   <li>else {@code UNKNOWN}.
 * </ol>
 *
 * <p>Stateless and thread-safe.
 */
public final class CloseReasons {
  /** An exchange was under way, failed or timed out when the connection closed. */
  public static final int EXCHANGE_CUT = 1;
  /** The client was shutting down (its close, or the adapter's shutdown) when the connection closed. */
  public static final int SHUTTING_DOWN = 1 << 1;
  /**
   * The peer closed the connection while it sat idle: its FIN (or RST) came between exchanges, or
   * before any byte of the response to the request sent next on it once reused (a fresh
   * connection's first request closed unanswered is an {@link #EXCHANGE_CUT}).
   */
  public static final int PEER_CLOSED_WHILE_IDLE = 1 << 2;
  /** The connection was idle: it carried requests, and none was under way. */
  public static final int IDLE = 1 << 3;

  private CloseReasons() {}

  /**
   * A retire reason the client decided as the connection's last request went out, before anything
   * of the peer's: where the peer then closed the idle connection as that request came (the race
   * a stale connection runs), the close is the peer's (before session 46, {@code
   * EXCHANGE_ABORTED} on every client).
   */
  private static boolean decidedAsTheRequestWentOut(CloseEvent.Reason reason) {
    return reason == CloseEvent.Reason.REQUEST_CAP || reason == CloseEvent.Reason.LIFETIME
        || reason == CloseEvent.Reason.CALLER_ASKED;
  }

  /**
   * Why a connection closed, in the order of this class's description.
   *
   * @param strategy the client's strategy, or null for an observing factory
   * @param outcome how the connection closed
   * @param retireReason why the connection was to end, as decided before its close (the first
   *     reason given), or null
   * @param facts what was seen of the connection: {@link #EXCHANGE_CUT}, {@link #SHUTTING_DOWN},
   *     {@link #PEER_CLOSED_WHILE_IDLE}, {@link #IDLE}, or-ed; 0 for none
   * @return the reason for the close record, never null
   */
  public static CloseEvent.Reason decide(CloseStrategy.Kind strategy, CloseOutcome outcome,
      CloseEvent.Reason retireReason, int facts) {
    Preconditions.checkNotNull(outcome, "outcome");
    if (outcome == CloseOutcome.FIN_WAIT_TIMEOUT) {
      return CloseEvent.Reason.FIN_WAIT_TIMEOUT;
    }
    if (outcome == CloseOutcome.FIN_WAIT_ABORTED) {
      return CloseEvent.Reason.EXCHANGE_ABORTED;
    }
    if (strategy == null) {
      return CloseEvent.Reason.UNKNOWN;
    }
    boolean pooled = strategy == CloseStrategy.Kind.POOLED;
    boolean shuttingDown = (facts & SHUTTING_DOWN) != 0;
    boolean cut = (facts & EXCHANGE_CUT) != 0;
    // The peer's idle close where no reason was decided before, or where the one decided was the
    // client's as its last request went out and that exchange was cut: the peer closed as it came.
    boolean peerClosedIdle = (facts & PEER_CLOSED_WHILE_IDLE) != 0
        && (retireReason == null || cut && decidedAsTheRequestWentOut(retireReason));
    if (pooled && (retireReason == CloseEvent.Reason.PEER_CLOSED_IDLE || peerClosedIdle)) {
      // Before a cut exchange: the reset a reuse check read is the peer's close, not a failure.
      return CloseEvent.Reason.PEER_CLOSED_IDLE;
    }
    if (cut) {
      return shuttingDown ? CloseEvent.Reason.SHUTDOWN : CloseEvent.Reason.EXCHANGE_ABORTED;
    }
    if (!pooled) {
      return CloseEvent.Reason.STRATEGY;
    }
    if (retireReason != null) {
      return retireReason;
    }
    if (shuttingDown) {
      return CloseEvent.Reason.SHUTDOWN;
    }
    return (facts & IDLE) != 0 ? CloseEvent.Reason.IDLE_EVICTION : CloseEvent.Reason.UNKNOWN;
  }
}
