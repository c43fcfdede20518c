package dev.timewait.spi;

import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.internal.Preconditions;

/**
 * When a connection ends, for one {@link CloseStrategy}: the one place that decides it, so that an
 * adapter only reports what its client's hooks see (the connection's request count and age, the
 * messages' headers) and applies the answer.
 *
 * <ul>
 *   <li>{@link #isLast}: whether a request is the last its connection carries: every request under
 *       server close and reset; under pooled keep-alive the {@code maxRequestsPerConnection}-th
 *       request, and the first request sent once the connection is {@code maxLifetime} old.
 *   <li>{@link #mustAskServerToClose}: whether that request carries {@code Connection: close}:
 *       every last request, so that the server closes its side after the response (under server
 *       close it then keeps the TIME_WAIT; under reset the client's RST reaches a connection the
 *       server is already done with).
 *   <li>{@link #mayReuse}: whether the connection may carry another request after a response:
 *       decided from the request's {@code last} as it went out, so that a connection that turns
 *       {@code maxLifetime} old while a request is under way retires with its next request.
 *   <li>{@link #endsByAgreement} and {@link #peerAllowsReuse}: what the peer's messages said
 *       ({@code Connection: close}, HTTP/1.0 without keep-alive, {@code Keep-Alive: max=0});
 *       {@link #bodyEndsAtClose}: a response whose body only the close ends.
 *   <li>{@link #lastReason} and {@link #retireReason}: why, as the {@link CloseEvent.Reason} an
 *       adapter hands to the connection's close record: an enum constant, nothing allocated.
 * </ul>
 *
 * <p>Lifetime: a connection past {@code maxLifetime} retires with its next request, which carries
 * {@code Connection: close}, rather than being closed by a timer
 * or at the pool's lease. Retiring with a request keeps the strategy's promise (under {@link
 * Retirement#SERVER_CLOSE} the server takes the TIME_WAIT instead of receiving an RST on an idle
 * connection), costs no extra connect, and needs nothing but a per-request hook, which every
 * client has, where a time-to-live needs a pool that offers one (OkHttp's does not). A connection
 * that sits idle past its lifetime is still bounded by {@code idleTimeout}.
 *
 * <p>Immutable and thread-safe.
 */
public final class ConnectionRules {
  private final boolean keepAlive;
  private final long maxRequests;
  private final long maxLifetimeNanos;

  private ConnectionRules(CloseStrategy strategy) {
    this.keepAlive = strategy.keepAlive();
    if (strategy instanceof PooledKeepAlive) {
      PooledKeepAlive pooled = (PooledKeepAlive) strategy;
      this.maxRequests = pooled.maxRequestsPerConnection();
      this.maxLifetimeNanos = pooled.maxLifetime().toNanos();
    } else {
      this.maxRequests = 1;
      this.maxLifetimeNanos = Long.MAX_VALUE;
    }
  }

  /**
   * The rules of {@code strategy}.
   *
   * @param strategy the client's strategy
   * @return its connection rules
   */
  public static ConnectionRules of(CloseStrategy strategy) {
    return new ConnectionRules(Preconditions.checkNotNull(strategy, "strategy"));
  }

  /** {@return whether a connection ever carries more than one request} */
  public boolean keepAlive() {
    return keepAlive;
  }

  /**
   * Whether the request that makes {@code requestsIncludingThis} requests on its connection is
   * the connection's last.
   *
   * @param requestsIncludingThis the connection's requests, this one included (1 for the first)
   * @param ageNanos how long ago the connection opened (or was first seen), in nanoseconds
   * @return true if the connection carries no request after this one
   */
  public boolean isLast(long requestsIncludingThis, long ageNanos) {
    return lastReason(requestsIncludingThis, ageNanos) != null;
  }

  /**
   * Why the request that makes {@code requestsIncludingThis} requests on its connection is the
   * connection's last, or null if it is not ({@link #isLast} is this being non-null): {@link
   * CloseEvent.Reason#STRATEGY} under server close and reset (every request is the last), {@link
   * CloseEvent.Reason#REQUEST_CAP} at {@code maxRequestsPerConnection}, {@link
   * CloseEvent.Reason#LIFETIME} once the connection is {@code maxLifetime} old (the cap first if
   * both hold).
   *
   * @param requestsIncludingThis the connection's requests, this one included (1 for the first)
   * @param ageNanos how long ago the connection opened (or was first seen), in nanoseconds; a
   *     negative age is unknown and never the lifetime's
   * @return the reason, or null if the connection may carry another request after this one
   * @throws IllegalArgumentException if {@code requestsIncludingThis} is under 1
   */
  public CloseEvent.Reason lastReason(long requestsIncludingThis, long ageNanos) {
    // A count under 1 is an adapter's bug; under reset and server close it would pass unseen.
    Preconditions.checkPositive(requestsIncludingThis, "requestsIncludingThis");
    if (!keepAlive) {
      return CloseEvent.Reason.STRATEGY;
    }
    if (requestsIncludingThis >= maxRequests) {
      return CloseEvent.Reason.REQUEST_CAP;
    }
    return ageNanos >= maxLifetimeNanos ? CloseEvent.Reason.LIFETIME : null;
  }

  /**
   * Why a connection may not carry another request after a response, or null if it may ({@link
   * #mayReuse} is this being null): the reason its request was the {@linkplain #lastReason last}
   * (what the client decided comes first: under server-close retirement the peer's {@code
   * Connection: close} only answers the client's), {@link CloseEvent.Reason#STRATEGY} for a
   * strategy that never reuses, else {@link CloseEvent.Reason#PEER_ANNOUNCED} when the peer does
   * not allow reuse ({@link #peerAllowsReuse}).
   *
   * @param lastReason what {@link #lastReason} said of the request when it went out (null: not last)
   * @param http10OrOlder whether the response's version is HTTP/1.0 or older
   * @param responseConnection the response's {@code Connection} header value(s), or null
   * @param responseKeepAlive the response's {@code Keep-Alive} header value, or null
   * @return the reason, or null if the connection may go back to the pool
   */
  public CloseEvent.Reason retireReason(CloseEvent.Reason lastReason, boolean http10OrOlder,
      String responseConnection, String responseKeepAlive) {
    if (lastReason != null) {
      return lastReason;
    }
    if (!keepAlive) {
      return CloseEvent.Reason.STRATEGY;
    }
    return peerAllowsReuse(http10OrOlder, responseConnection, responseKeepAlive)
        ? null : CloseEvent.Reason.PEER_ANNOUNCED;
  }

  /**
   * Whether a request must carry {@code Connection: close}: it is its connection's {@linkplain
   * #isLast last}, under every retirement. A server that receives it closes the connection after
   * its response (RFC 9112 9.6): under server close that puts the TIME_WAIT on the server; under
   * reset the client's RST then reaches a connection the server has finished with, instead of
   * one it keeps open for a next request, whose read the RST fails ("Connection reset": an
   * exception in a thread-per-connection Java server). Measured against the benchmarks' such
   * server: reset 0.96-1.05 of each client's own close with keep-alive off with it, 0.88-0.96
   * without (docs/benchmarks.md, session 26).
   *
   * @param last what {@link #isLast} said of the request
   * @return true if the request asks the server to close
   */
  public boolean mustAskServerToClose(boolean last) {
    return last;
  }

  /**
   * Whether a connection may carry another request after a response: the strategy keeps
   * connections alive, the request was not the connection's {@linkplain #isLast last}, and the
   * peer allows it ({@link #peerAllowsReuse}).
   *
   * @param last what {@link #isLast} said of the request when it went out
   * @param http10OrOlder whether the response's version is HTTP/1.0 or older
   * @param responseConnection the response's {@code Connection} header value(s), or null
   * @param responseKeepAlive the response's {@code Keep-Alive} header value, or null
   * @return true if the connection may go back to the pool
   */
  public boolean mayReuse(
      boolean last, boolean http10OrOlder, String responseConnection, String responseKeepAlive) {
    return keepAlive && !last && peerAllowsReuse(http10OrOlder, responseConnection, responseKeepAlive);
  }

  /**
   * Whether an exchange ends its connection by agreement, so that the server closes once it has
   * answered and the client may wait for its FIN: either side said {@code Connection: close}, or
   * an HTTP/1.0 server did not say {@code Connection: keep-alive}.
   *
   * @param requestConnection the request's {@code Connection} header value(s), comma-separated, or null
   * @param http10OrOlder whether the response's version is HTTP/1.0 or older
   * @param responseConnection the response's {@code Connection} header value(s), or null
   * @return true if the exchange ends the connection
   */
  public static boolean endsByAgreement(
      String requestConnection, boolean http10OrOlder, String responseConnection) {
    return hasToken(requestConnection, "close") || peerEnds(http10OrOlder, responseConnection);
  }

  /**
   * Whether the peer lets the connection carry another request after its response: not if it said
   * {@code Connection: close}, answered HTTP/1.0 without {@code Connection: keep-alive}, or
   * announced {@code Keep-Alive: max=0} or {@code timeout=0} ({@link
   * KeepAliveAnnouncement#allowsNoMoreRequests}, {@link KeepAliveAnnouncement#allowsNoIdleTime}).
   *
   * @param http10OrOlder whether the response's version is HTTP/1.0 or older
   * @param responseConnection the response's {@code Connection} header value(s), or null
   * @param responseKeepAlive the response's {@code Keep-Alive} header value, or null
   * @return true if the peer allows reuse
   */
  public static boolean peerAllowsReuse(
      boolean http10OrOlder, String responseConnection, String responseKeepAlive) {
    return !peerEnds(http10OrOlder, responseConnection)
        && !KeepAliveAnnouncement.allowsNoMoreRequests(responseKeepAlive)
        && !KeepAliveAnnouncement.allowsNoIdleTime(responseKeepAlive);
  }

  private static boolean peerEnds(boolean http10OrOlder, String responseConnection) {
    return hasToken(responseConnection, "close")
        || (http10OrOlder && !hasToken(responseConnection, "keep-alive"));
  }

  /**
   * Whether an HTTP/1.x response's body ends at the peer's close (RFC 9112 6.3, item 8): a
   * response that may have a body (not to HEAD, not a 2xx to CONNECT, not 1xx, 204 or 304)
   * framed neither by a {@code Transfer-Encoding} ending in {@code chunked} nor by a {@code
   * Content-Length}. Such a response ends its connection whatever its {@code Connection} header
   * says, so its close is the exchange's end: a caller's pause between two reads of the body is no
   * idle timeout of the peer.
   *
   * @param requestMethod the request's method
   * @param status the response's status code
   * @param transferEncoding the response's {@code Transfer-Encoding} value(s), or null
   * @param contentLength the response's {@code Content-Length} value, or null
   * @return true if the body is read until the peer closes
   * @throws NullPointerException if {@code requestMethod} is null
   */
  public static boolean bodyEndsAtClose(
      String requestMethod, int status, String transferEncoding, String contentLength) {
    Preconditions.checkNotNull(requestMethod, "requestMethod");
    if (requestMethod.equalsIgnoreCase("HEAD") || status < 200 || status == 204 || status == 304
        || (status < 300 && requestMethod.equalsIgnoreCase("CONNECT"))) {
      return false;
    }
    if (transferEncoding != null) {
      // A response whose last coding is not chunked is read until the close (6.3, item 4).
      return !lastTokenIs(transferEncoding, "chunked");
    }
    return contentLength == null;
  }

  private static boolean lastTokenIs(String value, String token) {
    int to = value.length();
    while (to > 0 && (Character.isWhitespace(value.charAt(to - 1)) || value.charAt(to - 1) == ',')) {
      to--;
    }
    int from = value.lastIndexOf(',', to - 1) + 1;
    while (from < to && Character.isWhitespace(value.charAt(from))) {
      from++;
    }
    return to - from == token.length() && value.regionMatches(true, from, token, 0, to - from);
  }

  /**
   * Whether a {@code Connection} header value lists {@code token} (case-insensitive).
   *
   * @param connection the header's value(s), comma-separated, or null
   * @param token the connection option, such as {@code close}
   * @return true if listed
   */
  public static boolean hasToken(String connection, String token) {
    if (connection == null) {
      return false;
    }
    int start = 0;
    int length = connection.length();
    while (start <= length) {
      int comma = connection.indexOf(',', start);
      int end = comma < 0 ? length : comma;
      int from = start;
      int to = end;
      while (from < to && Character.isWhitespace(connection.charAt(from))) {
        from++;
      }
      while (to > from && Character.isWhitespace(connection.charAt(to - 1))) {
        to--;
      }
      if (to - from == token.length() && connection.regionMatches(true, from, token, 0, to - from)) {
        return true;
      }
      if (comma < 0) {
        return false;
      }
      start = comma + 1;
    }
    return false;
  }

  @Override
  public String toString() {
    return "ConnectionRules[keepAlive=" + keepAlive + ", maxRequests=" + maxRequests
        + ", maxLifetimeNanos=" + maxLifetimeNanos + "]";
  }
}
