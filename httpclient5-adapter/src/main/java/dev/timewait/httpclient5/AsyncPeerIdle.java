package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.PeerIdleTimeouts;
import dev.timewait.httpclient5.AsyncConnection.Endpoints;
import dev.timewait.httpclient5.AsyncConnection.State;
import dev.timewait.spi.Counting;
import dev.timewait.spi.PeerIdle;
import java.net.InetSocketAddress;

/**
 * Pooled async connections and their peers' idle timeouts: learns a peer's idle timeout from an
 * end of stream on an idle connection ({@link PeerIdleTimeouts}), and retires a connection idle
 * past it at HttpCore's stale check. Does nothing for server close and reset. Thread-safe: what it
 * reads and writes is thread-safe.
 */
final class AsyncPeerIdle {
  private final boolean pooled;
  private final CloseAccounting accounting;

  AsyncPeerIdle(boolean pooled, CloseAccounting accounting) {
    this.pooled = pooled;
    this.accounting = accounting;
  }

  /**
   * The peer's end of stream (or its reset) arrived on {@code connection} (any layer). If the
   * connection sat idle in the pool after a response, that is the peer's idle timeout, seen by the
   * reactor as it came: learned ({@link PeerIdleTimeouts}) and counted as closed idle by the peer.
   */
  void peerClosed(AsyncConnection connection) {
    if (!pooled || !connection.idleSinceExchange() || connection.armed || connection.requests() == 0
        || connection.state() != State.OPEN) {
      return;
    }
    long idle = System.nanoTime() - connection.lastDataNanos;
    InetSocketAddress remote = remoteOf(connection);
    connection.lastDataWasRead = false; // once per connection: TLS reports its end, then TCP's
    // The peer's close of an idle connection however soon it came (as the other adapters count
    // it: before, one under 100 ms read IDLE_EVICTION); only learned from 100 ms on, which
    // PeerIdleTimeouts ignores below: sooner is the server ending the exchange, no idle timeout.
    connection.retire(dev.timewait.CloseEvent.Reason.PEER_CLOSED_IDLE);
    if (remote != null) {
      PeerIdle.observeClosedAfterIdle(accounting, remote, idle);
    }
    Counting.closedIdleByPeer(accounting);
  }

  /**
   * Whether HttpClient's stale check of pooled {@code connection} (after it sat idle {@code
   * validateAfterInactivity}) should find it stale: idle past what was learned of its peer's idle
   * timeout, it retires before the peer closes it, instead of racing that close.
   */
  boolean retireOnStaleCheck(AsyncConnection connection) {
    if (!pooled) {
      return false;
    }
    long retireAfter = PeerIdle.retireAfterIdleNanos(accounting, remoteOf(connection));
    return retireAfter >= 0 && System.nanoTime() - connection.lastDataNanos >= retireAfter;
  }

  private static InetSocketAddress remoteOf(AsyncConnection connection) {
    Endpoints endpoints = connection.endpoints;
    return endpoints != null && endpoints.remote() instanceof InetSocketAddress
        ? (InetSocketAddress) endpoints.remote() : null;
  }
}
