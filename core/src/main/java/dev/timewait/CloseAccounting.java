package dev.timewait;

import dev.timewait.internal.CoreAccess;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts how one client's connections open and close. A {@link TimeWaitSocketFactory} owns one
 * and counts every socket it makes; adapters whose client makes its own sockets count through
 * {@code dev.timewait.spi} ({@code CloseOutcome.recordOn}, {@code Counting}). {@link #snapshot()}
 * gives an immutable {@link CloseStats}.
 *
 * <pre>{@code
 * CloseAccounting accounting = new CloseAccounting();
 * TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(CloseStrategy.reset(), accounting);
 * CloseStats stats = accounting.snapshot();
 * }</pre>
 *
 * <p>Thread-safe: every method may be called from any thread, without locks. A snapshot taken
 * while connections close may be mid-update by one close.
 */
public final class CloseAccounting {
  static {
    CoreAccess.register(CloseAccounting::increment);
  }

  private final LongAdder opened = new LongAdder();
  private final LongAdder afterPeerFin = new LongAdder();
  private final LongAdder reset = new LongAdder();
  private final LongAdder locallyFirst = new LongAdder();
  private final LongAdder finWaitTimeouts = new LongAdder();
  private final LongAdder finWaitAborts = new LongAdder();
  private final LongAdder closedIdleByPeer = new LongAdder();
  private final LongAdder staleRetries = new LongAdder();
  private final PeerIdleTimeouts peerIdleTimeouts = new PeerIdleTimeouts();

  /** A connection connected. */
  void recordOpened() {
    opened.increment();
  }

  /** A connection closed after the peer's FIN arrived. */
  void recordClosedAfterPeerFin() {
    afterPeerFin.increment();
  }

  /** A connection closed with an RST. */
  void recordClosedByReset() {
    reset.increment();
  }

  /** A connection closed by this side first, with a FIN: it left TIME_WAIT here. */
  void recordClosedLocallyFirst() {
    locallyFirst.increment();
  }

  /** A server close gave up waiting for the FIN and reset; also call {@link #recordClosedByReset}. */
  void recordFinWaitTimeout() {
    finWaitTimeouts.increment();
  }

  /**
   * A server close's FIN wait was ended early, with an RST, by a cancel, an interrupt of the
   * waiting thread or a client's shutdown; also call {@link #recordClosedByReset}.
   */
  void recordFinWaitAbort() {
    finWaitAborts.increment();
  }

  /**
   * A pooled connection was found closed by its peer while it sat idle, before it carried another
   * request; also call {@link #recordClosedAfterPeerFin} or {@link #recordClosedByReset}.
   */
  void recordClosedIdleByPeer() {
    closedIdleByPeer.increment();
  }

  /** A request was sent again on a fresh connection after a reused one failed unanswered. */
  void recordStaleRetry() {
    staleRetries.increment();
  }

  /** Creates an accounting with every count at 0. */
  public CloseAccounting() {}

  private static void increment(CloseAccounting accounting, CoreAccess.Count count) {
    switch (count) {
      case OPENED:
        accounting.recordOpened();
        break;
      case CLOSED_AFTER_PEER_FIN:
        accounting.recordClosedAfterPeerFin();
        break;
      case CLOSED_BY_RESET:
        accounting.recordClosedByReset();
        break;
      case CLOSED_LOCALLY_FIRST:
        accounting.recordClosedLocallyFirst();
        break;
      case FIN_WAIT_TIMEOUT:
        accounting.recordFinWaitTimeout();
        break;
      case FIN_WAIT_ABORT:
        accounting.recordFinWaitAbort();
        break;
      case CLOSED_IDLE_BY_PEER:
        accounting.recordClosedIdleByPeer();
        break;
      case STALE_RETRY:
      default:
        accounting.recordStaleRetry();
        break;
    }
  }

  /** {@return what the pooled connections counted here learned of their peers' idle timeouts} */
  public PeerIdleTimeouts peerIdleTimeouts() {
    return peerIdleTimeouts;
  }

  /** {@return the counts now} */
  public CloseStats snapshot() {
    return new CloseStats(
        opened.sum(), afterPeerFin.sum(), reset.sum(), locallyFirst.sum(), finWaitTimeouts.sum(),
        finWaitAborts.sum(), closedIdleByPeer.sum(), staleRetries.sum());
  }

  @Override
  public String toString() {
    return snapshot().toString();
  }
}
