package dev.timewait;

/**
 * An immutable snapshot of a {@link CloseAccounting}: how the connections of one client opened
 * and closed.
 *
 * <pre>{@code
 * CloseStats stats = factory.accounting().snapshot();
 * if (stats.closedLocallyFirst() > 0) { ... this client left TIME_WAIT on this host ... }
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param connectionsOpened connections that connected
 * @param closedAfterPeerFin connections closed after the peer's FIN arrived: TIME_WAIT went to the
 *     peer
 * @param closedByReset connections closed with an RST, by this side or the peer: no TIME_WAIT on
 *     either side
 * @param closedLocallyFirst connections this side closed first with a FIN: each one left TIME_WAIT
 *     on this host
 * @param finWaitTimeouts server closes whose FIN did not come within the bound, and that were
 *     reset instead (each is also counted in {@code closedByReset})
 * @param finWaitAborts server closes whose FIN wait a cancel, an interrupt of the waiting thread
 *     or a client's shutdown ended early, with an RST (each is also counted in {@code
 *     closedByReset})
 * @param closedIdleByPeer pooled connections their peer had closed while they sat idle, found
 *     before they carried another request (each is also counted in {@code closedAfterPeerFin} or
 *     {@code closedByReset})
 * @param staleRetries requests sent again on a fresh connection because a reused connection
 *     failed before any byte of the response arrived (the peer closed it as the request went out)
 */
public record CloseStats(
    long connectionsOpened,
    long closedAfterPeerFin,
    long closedByReset,
    long closedLocallyFirst,
    long finWaitTimeouts,
    long finWaitAborts,
    long closedIdleByPeer,
    long staleRetries) {

  /** All zero. */
  public static final CloseStats EMPTY = new CloseStats(0, 0, 0, 0, 0, 0, 0, 0);

  /** {@return the connections closed in any way} */
  public long closed() {
    return closedAfterPeerFin + closedByReset + closedLocallyFirst;
  }

  /** {@return the connections opened and not closed yet} */
  public long open() {
    return connectionsOpened - closed();
  }

  /**
   * The difference {@code this - earlier}, field by field.
   *
   * @param earlier a snapshot taken before this one
   * @return the counts since {@code earlier}
   */
  public CloseStats minus(CloseStats earlier) {
    return new CloseStats(
        connectionsOpened - earlier.connectionsOpened,
        closedAfterPeerFin - earlier.closedAfterPeerFin,
        closedByReset - earlier.closedByReset,
        closedLocallyFirst - earlier.closedLocallyFirst,
        finWaitTimeouts - earlier.finWaitTimeouts,
        finWaitAborts - earlier.finWaitAborts,
        closedIdleByPeer - earlier.closedIdleByPeer,
        staleRetries - earlier.staleRetries);
  }
}
