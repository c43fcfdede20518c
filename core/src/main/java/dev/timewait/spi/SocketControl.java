package dev.timewait.spi;

import dev.timewait.ResponseMark;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.internal.CoreAccess;
import dev.timewait.internal.Preconditions;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.function.BooleanSupplier;

/**
 * What an adapter does to the connections of a {@link TimeWaitSocketFactory} at its client's
 * hooks: arm a server close once an exchange ended its connection by agreement, check that a
 * connection is the factory's, read its age for {@link ConnectionRules}, retire it when idle,
 * mark a response, end a FIN wait on a cancel. A socket argument may be one of the factory's or
 * one layered over it (an {@code SSLSocket}); endpoints name an open connection of the factory.
 * Every method is a no-op answering false (or -1, or null) for a connection that is not an open
 * one of the factory. Stateless; thread-safe as the factory is.
 */
public final class SocketControl {
  private SocketControl() {}

  /**
   * Arms the server close of {@code socket}'s connection: its close waits, bounded by the FIN
   * wait, for the server's FIN. Arm only once the request was written whole (on the response's
   * head, say): from then on the connection discards what is written to it, since a server that
   * has already closed would answer TLS's close_notify with an RST instead of keeping TIME_WAIT.
   *
   * @param factory the client's factory
   * @param socket the connection's socket
   * @return true if armed: the connection is the factory's and it closes by server close
   */
  public static boolean arm(TimeWaitSocketFactory factory, Socket socket) {
    return CoreAccess.sockets().arm(check(factory), Preconditions.checkNotNull(socket, "socket"));
  }

  /**
   * {@link #arm(TimeWaitSocketFactory, Socket)} by endpoints, for a client that exposes them but
   * not the socket (HttpClient 5). A non-null {@code abortWhen} is polled during the FIN wait (at
   * most every 50 ms), and true ends it with an RST, a FIN-wait abort: for a client whose cancel
   * no longer reaches the connection once the exchange is over. It must be cheap, thread-safe and
   * must not block.
   *
   * @param factory the client's factory
   * @param local the connection's local endpoint
   * @param remote the connection's remote endpoint
   * @param abortWhen polled during the FIN wait, or null
   * @return true if armed
   */
  public static boolean arm(TimeWaitSocketFactory factory, SocketAddress local,
      SocketAddress remote, BooleanSupplier abortWhen) {
    return CoreAccess.sockets().arm(check(factory), Preconditions.checkNotNull(local, "local"),
        Preconditions.checkNotNull(remote, "remote"), abortWhen);
  }

  /**
   * Whether the factory made the open connection between these endpoints.
   *
   * @param factory the client's factory
   * @param local the connection's local endpoint
   * @param remote the connection's remote endpoint
   * @return true if it is the factory's and open
   */
  public static boolean owns(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote) {
    return CoreAccess.sockets().owns(check(factory), Preconditions.checkNotNull(local, "local"),
        Preconditions.checkNotNull(remote, "remote"));
  }

  /**
   * How long ago the open connection between these endpoints was established, for {@link
   * ConnectionRules#isLast}.
   *
   * @param factory the client's factory
   * @param local the connection's local endpoint
   * @param remote the connection's remote endpoint
   * @return its age in nanoseconds, or -1
   */
  public static long ageNanos(TimeWaitSocketFactory factory, SocketAddress local, SocketAddress remote) {
    return CoreAccess.sockets().ageNanos(check(factory), local, remote);
  }

  /**
   * For pooled strategies: {@code socket}'s connection retires at its next reuse check ({@link
   * Socket#isClosed()}) once idle for {@code afterIdleNanos}, 0 meaning at once: the peer
   * announced its idle timeout ({@link KeepAliveAnnouncement}), or does not allow reuse ({@link
   * ConnectionRules#peerAllowsReuse}).
   *
   * @param factory the client's factory
   * @param socket the connection's socket
   * @param afterIdleNanos the idle time after which the connection retires; 0 or more
   * @return true if the connection is the factory's, open, and pooled
   */
  public static boolean retireWhenIdle(TimeWaitSocketFactory factory, Socket socket, long afterIdleNanos) {
    return CoreAccess.sockets().retireWhenIdle(
        check(factory), Preconditions.checkNotNull(socket, "socket"), afterIdleNanos);
  }

  /**
   * For pooled strategies: a mark of what {@code socket}'s connection has read, taken as a request
   * goes out on it, to tell later whether the exchange failed before any byte of its response
   * ({@link UnansweredRetry}).
   *
   * @param factory the client's factory
   * @param socket the connection's socket
   * @return the mark, or null if it is not a pooled connection of the factory
   */
  public static ResponseMark markResponse(TimeWaitSocketFactory factory, Socket socket) {
    return CoreAccess.sockets().markResponse(check(factory), Preconditions.checkNotNull(socket, "socket"));
  }

  /**
   * Ends the FIN wait of {@code socket}'s connection at once with an RST (a close not begun yet
   * resets without waiting), counted as a FIN-wait abort if it was armed: for a cancel that comes
   * after the exchange completed.
   *
   * @param factory the client's factory
   * @param socket the connection's socket
   * @return true if the connection is the factory's and still open
   */
  public static boolean abortFinWait(TimeWaitSocketFactory factory, Socket socket) {
    return CoreAccess.sockets().abortFinWait(check(factory), Preconditions.checkNotNull(socket, "socket"));
  }

  private static TimeWaitSocketFactory check(TimeWaitSocketFactory factory) {
    return Preconditions.checkNotNull(factory, "factory");
  }
}
