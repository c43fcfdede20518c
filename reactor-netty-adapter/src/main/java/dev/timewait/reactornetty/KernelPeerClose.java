package dev.timewait.reactornetty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.epoll.EpollSocketChannel;

/**
 * Whether the kernel already holds a pooled channel's end: the peer's FIN or RST arrived, but
 * the event loop has not read it yet (it is busy, or the check runs just as the close comes).
 * Read from the connection's TCP state ({@code TCP_INFO}) on Linux's epoll transport, which
 * Reactor Netty uses by default on Linux ({@code netty-transport-native-epoll} comes with
 * {@code reactor-netty-http}); other transports (NIO, io_uring, kqueue) have no public way to
 * read it, and there the check says no and the event loop's own sight of the FIN is all there is.
 *
 * <p>Stateless and thread-safe: one {@code getsockopt} on the channel's socket, from any thread.
 */
final class KernelPeerClose {
  /** {@code TCP_ESTABLISHED} in Linux's {@code include/net/tcp_states.h}. */
  private static final int TCP_ESTABLISHED = 1;

  /** netty-transport-classes-epoll was left out of the class path: no epoll channel exists. */
  private static volatile boolean epollMissing;

  private KernelPeerClose() {}

  /**
   * {@return true if the pooled connection of {@code channel}, idle for {@code
   * staleCheckAfterIdle} or longer since its last exchange ended, is {@link #seen} closed by its
   * peer} The one check both the pool's hand-out ({@link Eviction}) and the request's write
   * ({@link ExchangeHandler}) make; a busy connection costs a comparison, not a system call.
   *
   * @param channel the connection's channel
   * @param state its state
   * @param nowNanos {@link System#nanoTime()}, now
   */
  static boolean seenAfterIdle(Channel channel, ChannelState state, long nowNanos) {
    long threshold = state.connections.staleCheckNanos;
    long lastEnd = state.lastExchangeEndNanos;
    return threshold >= 0 && state.requests > 0 && lastEnd != 0 && nowNanos - lastEnd >= threshold
        && seen(channel);
  }

  /**
   * {@return true if {@code channel} is an epoll socket whose TCP connection is no longer
   * established (CLOSE_WAIT after the peer's FIN, CLOSE after its RST), or whose state cannot be
   * read because its socket is closed}
   */
  static boolean seen(Channel channel) {
    if (epollMissing) {
      return false;
    }
    try {
      return Epoll.seen(channel);
    } catch (NoClassDefFoundError e) {
      epollMissing = true;
      return false;
    }
  }

  /** Loaded only on the first check, so that a class path without epoll's classes is no error. */
  private static final class Epoll {
    static boolean seen(Channel channel) {
      if (!(channel instanceof EpollSocketChannel)) {
        return false;
      }
      try {
        return ((EpollSocketChannel) channel).tcpInfo().state() != TCP_ESTABLISHED;
      } catch (ChannelException e) {
        return true; // getsockopt failed: the socket is closed
      }
    }
  }
}
