package dev.timewait.spi;

import dev.timewait.CloseAccounting;
import dev.timewait.internal.CoreAccess;
import dev.timewait.internal.CoreAccess.Count;
import dev.timewait.internal.Preconditions;

/**
 * What an adapter whose client makes its own connections (an event loop's channels) counts onto
 * the client's {@link CloseAccounting}, beside each close's {@link CloseOutcome#recordOn}. Adapters
 * whose client takes its sockets from a {@code TimeWaitSocketFactory} count only retries here: the
 * factory counts the rest. Stateless and thread-safe.
 */
public final class Counting {
  private Counting() {}

  /**
   * A connection connected.
   *
   * @param accounting the client's accounting
   */
  public static void opened(CloseAccounting accounting) {
    increment(accounting, Count.OPENED);
  }

  /**
   * A pooled connection was found closed by its peer while it sat idle, before it carried another
   * request; its close is recorded besides ({@link CloseOutcome#AFTER_PEER_FIN} or a reset).
   *
   * @param accounting the client's accounting
   */
  public static void closedIdleByPeer(CloseAccounting accounting) {
    increment(accounting, Count.CLOSED_IDLE_BY_PEER);
  }

  /**
   * A request was sent again on a fresh connection after a reused one failed unanswered ({@link
   * UnansweredRetry}).
   *
   * @param accounting the client's accounting
   */
  public static void staleRetry(CloseAccounting accounting) {
    increment(accounting, Count.STALE_RETRY);
  }

  private static void increment(CloseAccounting accounting, Count count) {
    CoreAccess.accounting().increment(Preconditions.checkNotNull(accounting, "accounting"), count);
  }
}
