package dev.timewait.reactornetty;

import dev.timewait.PooledKeepAlive;
import dev.timewait.spi.PeerIdle;
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
 * Keep-Alive: timeout}) or was seen to keep ({@code PeerIdleTimeouts}), less a margin, or, idle for
 * {@code staleCheckAfterIdle} or longer, whose peer's FIN or RST the kernel holds though the event
 * loop has not read it yet ({@link KernelPeerClose}). An evicted connection is closed by the pool
 * through the pipeline, where it resets (or, the peer having closed first, closes as after its
 * FIN).
 *
 * <p>Stateless and thread-safe: it reads the channel's {@link ChannelState}.
 */
final class Eviction implements BiPredicate<Connection, ConnectionMetadata> {
  private final int maxRequests;
  private final long idleTimeoutMillis;
  private final long idleTimeoutNanos;

  Eviction(PooledKeepAlive strategy) {
    this.maxRequests = strategy.maxRequestsPerConnection();
    this.idleTimeoutMillis = strategy.idleTimeout().toMillis();
    this.idleTimeoutNanos = strategy.idleTimeout().toNanos();
  }

  @Override
  public boolean test(Connection connection, ConnectionMetadata metadata) {
    if (!connection.channel().isActive() || !connection.isPersistent()) {
      return true;
    }
    if (metadata.acquireCount() >= maxRequests) {
      return true;
    }
    ChannelState state = ChannelState.of(connection.channel());
    if (state == null) {
      // Made by a client sharing this provider that is unconfigured or not pooled: the pool's
      // own idle time is all there is.
      return metadata.idleTime() >= idleTimeoutMillis;
    }
    if (state.retire) {
      return true;
    }
    // Idle since its last exchange ended, on the monotonic clock. The pool's idleTime() is wall
    // clock (reactor-pool's default Clock.systemUTC(), which Reactor Netty keeps): a clock
    // stepped back by NTP or a resumed VM would keep a connection past its peer's idle timeout
    // by the step, the very race the learned timeout's 1 s margin is there to avoid.
    long end = state.lastExchangeEndNanos;
    long idleNanos = end != 0 ? System.nanoTime() - end : TimeUnit.MILLISECONDS.toNanos(metadata.idleTime());
    if (idleNanos >= idleTimeoutNanos) {
      return true;
    }
    long announced = state.retireAfterIdleNanos;
    if (announced >= 0 && idleNanos >= announced) {
      return true;
    }
    long learned = PeerIdle.retireAfterIdleNanos(state.connections.accounting, state.remote);
    if (learned >= 0 && idleNanos >= learned) {
      return true;
    }
    // The pool tests this just before it hands the connection out, on the acquiring thread. Netty
    // sees the peer's FIN when its event loop gets to it; a loop busy with other channels (or a
    // FIN that comes as the loop runs) leaves it unread in the kernel, and a request written then
    // goes into a connection the peer has closed: lost if it is not idempotent (seen behind
    // HAProxy on a loaded machine, the first POST after the pause).
    if (KernelPeerClose.seenAfterIdle(connection.channel(), state, System.nanoTime())) {
      state.peerCloseInKernel = true;
      return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return "TimeWaitReactorNetty.Eviction[maxRequests=" + maxRequests + ", idleTimeoutMillis="
        + idleTimeoutMillis + "]";
  }
}
