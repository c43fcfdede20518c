package dev.timewait.spi;

import dev.timewait.CloseAccounting;
import dev.timewait.PeerIdleTimeouts;
import dev.timewait.internal.CoreAccess;
import dev.timewait.internal.Preconditions;
import java.net.InetSocketAddress;

/**
 * What an adapter tells, and asks, the {@link PeerIdleTimeouts} of a client's {@link
 * CloseAccounting}: a pooled connection found closed by its peer after an idle time, and how long
 * a connection to a peer may sit idle before it retires. Users read what was learned through
 * {@code accounting.peerIdleTimeouts()}; only adapters teach it (an observation makes every pool of
 * the accounting retire that peer's connections early). Stateless and thread-safe.
 */
public final class PeerIdle {
  private PeerIdle() {}

  /**
   * The peer at {@code remote} was seen to have closed a pooled connection that had been idle for
   * {@code idleNanos} since its last exchange; see {@link PeerIdleTimeouts} for what is learned.
   *
   * @param accounting the client's accounting
   * @param remote the peer's address and port
   * @param idleNanos how long the connection had been idle when the close was seen
   */
  public static void observeClosedAfterIdle(
      CloseAccounting accounting, InetSocketAddress remote, long idleNanos) {
    CoreAccess.accounting().observeClosedAfterIdle(
        Preconditions.checkNotNull(accounting, "accounting"), remote, idleNanos);
  }

  /**
   * How long a pooled connection to {@code remote} may sit idle before it retires, in nanoseconds,
   * from what was learned: the learned time less a fifth of it, at most 1 s, and never under
   * {@link PeerIdleTimeouts#MIN_LEARNED}; -1 where nothing was learned (or {@code remote} is null).
   *
   * @param accounting the client's accounting
   * @param remote the peer's address and port, or null
   * @return the idle time after which a connection to {@code remote} retires, or -1
   */
  public static long retireAfterIdleNanos(CloseAccounting accounting, InetSocketAddress remote) {
    return CoreAccess.accounting().retireAfterIdleNanos(
        Preconditions.checkNotNull(accounting, "accounting"), remote);
  }
}
