package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.spi.ConnectionRules;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.netty.resources.ConnectionProvider;

/**
 * One configured client's part of the adapter: its strategy and rules, its accounting, and the
 * channels it has open (so that {@link TimeWaitReactorNetty#shutdown} can end FIN waits and
 * exchanges under way). Thread-safe.
 */
final class Connections {
  /** FIN waits under way in this process, for tests that wait for one to begin. */
  static final AtomicInteger FIN_WAITS = new AtomicInteger();

  final CloseStrategy strategy;
  final ConnectionRules rules;
  final CloseAccounting accounting;
  final boolean serverCloseRetirement;
  final long finWaitNanos;
  final boolean retryUnanswered;
  /**
   * A connection of this client began without an HTTP/1.1 codec (HTTP/2, switched back on after
   * {@code configure}): its requests never pass the exchange handler, so "no request head was
   * bound" no longer tells that none went out ({@code Attempts}' resend of "BEFORE send").
   */
  volatile boolean withoutHttp11Codec;
  /**
   * Pooled keep-alive: a connection idle this long (nanoseconds) has its TCP state read from the
   * kernel when the pool hands it out and before a request goes out on it ({@code
   * staleCheckAfterIdle}; {@link KernelPeerClose#seenAfterIdle}); -1 otherwise.
   */
  final long staleCheckNanos;
  /**
   * The client's provider pools: an exchange that ends its connection must say so ({@code
   * markPersistent(false)}). {@code ConnectionProvider.newConnection()} closes every connection
   * when its exchange ends.
   */
  final boolean pooledProvider;
  /**
   * The channels' states are channel attributes too, for the pool's eviction predicate (pooled
   * keep-alive only: one attribute less per connection elsewhere).
   */
  final boolean stateAttribute;
  /** The channels this client has open, with their states. */
  final Map<Channel, ChannelState> open = new ConcurrentHashMap<>();
  /** The sweep of the pooled provider's remote addresses' pools; null without a pool. */
  final PoolSweep sweep;
  private volatile boolean shutDown;

  Connections(CloseStrategy strategy, CloseAccounting accounting, ConnectionProvider provider,
      PoolSweep sweep) {
    this.sweep = sweep;
    this.strategy = strategy;
    this.rules = ConnectionRules.of(strategy);
    this.accounting = accounting;
    this.serverCloseRetirement = strategy.retirement() == Retirement.SERVER_CLOSE;
    this.finWaitNanos = strategy.finWait().toNanos();
    this.retryUnanswered =
        strategy instanceof PooledKeepAlive && ((PooledKeepAlive) strategy).retryUnanswered();
    this.staleCheckNanos = strategy instanceof PooledKeepAlive
        ? ((PooledKeepAlive) strategy).staleCheckAfterIdle().toNanos() : -1;
    this.pooledProvider = provider != ConnectionProvider.newConnection();
    this.stateAttribute = strategy instanceof PooledKeepAlive;
  }

  boolean isShutDown() {
    return shutDown;
  }

  /**
   * Ends every connection of this client now, on its event loop: a FIN wait under way as a
   * FIN-wait abort, any other connection (idle, or in an exchange) with an RST. Waits at most
   * {@code bound} for the channels to close (not at all on one of their event loops, which must
   * run the closes; the caller passes 0 on any other non-blocking thread).
   */
  void shutdown(Duration bound) {
    shutDown = true;
    List<Channel> channels = new ArrayList<>(open.keySet());
    for (Channel channel : channels) {
      try {
        channel.eventLoop().execute(() -> {
          ChannelState state = open.get(channel); // null once it went inactive: closed already
          if (state != null && state.finWait != null) {
            state.finWait.abort();
          } else if (channel.isOpen()) {
            channel.close();
          }
        });
      } catch (RejectedExecutionException e) {
        // Its event loop was shut down (the user's loop resources disposed first), which closes
        // the loop's channels: go on with the others.
      }
    }
    // Wait for the channels to go inactive, where each close is counted: their close futures
    // complete just before that, so they would not do.
    long deadline = System.nanoTime() + bound.toNanos();
    for (Channel channel : channels) {
      if (channel.eventLoop().inEventLoop()) {
        return;
      }
    }
    while (channels.stream().anyMatch(open::containsKey) && deadline - System.nanoTime() > 0) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public String toString() {
    return "Connections[" + strategy + ", open=" + open.size() + "]";
  }
}
