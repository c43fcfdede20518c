package dev.timewait.reactornetty;

import dev.timewait.PooledKeepAlive;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import reactor.netty.Connection;
import reactor.netty.resources.ConnectionProvider.ConnectionMetadata;

/**
 * The pool's eviction predicate for pooled keep-alive, which Reactor Netty's pool tests when a
 * connection is released, before one is handed out again, and in its background sweep. With a
 * custom predicate Reactor Netty applies only it, so it keeps Reactor Netty's own rule (a closed
 * or non-persistent connection goes) and adds timewait's: a connection that may carry no more
 * requests, has carried {@code maxRequestsPerConnection} ({@link ConnectionMetadata#acquireCount()}),
 * has been idle for {@code idleTimeout}, or for the idle time its peer announced ({@code
 * Keep-Alive: timeout}) or was seen to keep ({@code PeerIdleTimeouts}), less a margin. An evicted
 * connection is closed by the pool through the pipeline, where it resets.
 *
 * <p>Stateless and thread-safe: it reads the channel's {@link ChannelState}.
 */
final class Eviction implements BiPredicate<Connection, ConnectionMetadata> {
  private final int maxRequests;
  private final long idleTimeoutMillis;

  Eviction(PooledKeepAlive strategy) {
    this.maxRequests = strategy.maxRequestsPerConnection();
    this.idleTimeoutMillis = strategy.idleTimeout().toMillis();
  }

  @Override
  public boolean test(Connection connection, ConnectionMetadata metadata) {
    if (!connection.channel().isActive() || !connection.isPersistent()) {
      return true;
    }
    if (metadata.acquireCount() >= maxRequests || metadata.idleTime() >= idleTimeoutMillis) {
      return true;
    }
    ChannelState state = ChannelState.of(connection.channel());
    if (state == null) {
      return false; // made by a client sharing this provider that is unconfigured or not pooled
    }
    if (state.retire) {
      return true;
    }
    long idleNanos = TimeUnit.MILLISECONDS.toNanos(metadata.idleTime());
    long announced = state.retireAfterIdleNanos;
    if (announced >= 0 && idleNanos >= announced) {
      return true;
    }
    long learned = state.connections.accounting.peerIdleTimeouts().retireAfterIdleNanos(state.remote);
    return learned >= 0 && idleNanos >= learned;
  }

  @Override
  public String toString() {
    return "TimeWaitReactorNetty.Eviction[maxRequests=" + maxRequests + ", idleTimeoutMillis="
        + idleTimeoutMillis + "]";
  }
}
