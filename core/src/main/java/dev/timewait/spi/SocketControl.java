package dev.timewait.spi;

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
   * {@link #arm(TimeWaitSocketFactory, Socket)}, with {@code abortWhen} polled during the FIN wait
   * (at once, then at most every 50 ms): true ends it with an RST, a FIN-wait abort. For a client
   * whose cancel may close the socket from the cancelling thread just after the arm (OkHttp's
   * cancel and call timeout, in the moment before the call lets go of its exchange): that close
   * would otherwise wait for the server's FIN on that thread. It must be cheap, thread-safe and
   * must not block.
   *
   * @param factory the client's factory
   * @param socket the connection's socket
   * @param abortWhen polled during the FIN wait
   * @return true if armed
   */
  public static boolean arm(TimeWaitSocketFactory factory, Socket socket, BooleanSupplier abortWhen) {
    return CoreAccess.sockets().arm(check(factory), Preconditions.checkNotNull(socket, "socket"),
        Preconditions.checkNotNull(abortWhen, "abortWhen"));
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
    return CoreAccess.sockets().ageNanos(check(factory), Preconditions.checkNotNull(local, "local"),
        Preconditions.checkNotNull(remote, "remote"));
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

  /**
   * A request goes out on {@code socket}'s connection: notes how many it has carried, this one
   * included, for its close record ({@code CloseEvent.requests()}), and returns its age for
   * {@link ConnectionRules#lastReason}. Allocates nothing once the connection is known (a socket
   * layered over the factory's, an {@code SSLSocket}, is looked up by its endpoints the first
   * time only).
   *
   * @param factory the client's factory
   * @param socket the connection's socket
   * @param requestsIncludingThis the connection's requests, this one included
   * @return how long ago the connection was established, in nanoseconds, or -1 if it is not an
   *     open connection of the factory
   * @throws IllegalArgumentException if {@code requestsIncludingThis} is under 1
   */
  public static long noteRequest(TimeWaitSocketFactory factory, Socket socket, long requestsIncludingThis) {
    return CoreAccess.sockets().noteRequest(check(factory), Preconditions.checkNotNull(socket, "socket"),
        Preconditions.checkPositive(requestsIncludingThis, "requestsIncludingThis"));
  }

  /**
   * {@code socket}'s connection will close for {@code reason} (its last request's {@link
   * ConnectionRules#lastReason}, {@link dev.timewait.CloseEvent.Reason#CALLER_ASKED} for a
   * caller's own {@code Connection: close}, or {@link dev.timewait.CloseEvent.Reason#PEER_ANNOUNCED}), which
   * its close record carries unless the close turns out otherwise (a FIN wait's timeout or abort).
   * The first reason given stands.
   *
   * @param factory the client's factory
   * @param socket the connection's socket
   * @param reason why the connection retires
   * @return true if the connection is an open one of the factory and had no reason yet
   */
  public static boolean retire(TimeWaitSocketFactory factory, Socket socket, dev.timewait.CloseEvent.Reason reason) {
    return CoreAccess.sockets().retire(check(factory), Preconditions.checkNotNull(socket, "socket"),
        Preconditions.checkNotNull(reason, "reason"));
  }

  /**
   * The client is shutting down: from now on, a close of the factory's connections that has no
   * other reason is recorded as {@link dev.timewait.CloseEvent.Reason#SHUTDOWN}, and a server
   * close's FIN wait ends at once with an RST (a FIN-wait abort), so that no close during the
   * shutdown waits out its bound. It lasts for the factory's life. Call it before the client
   * closes its pool.
   *
   * @param factory the client's factory
   */
  public static void clientShuttingDown(TimeWaitSocketFactory factory) {
    CoreAccess.sockets().clientShuttingDown(check(factory));
  }

  private static TimeWaitSocketFactory check(TimeWaitSocketFactory factory) {
    return Preconditions.checkNotNull(factory, "factory");
  }
}
