package dev.timewait.spi;

import java.io.InterruptedIOException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * When pooled keep-alive sends a request again after its connection failed: the peer closed a
 * reused connection just as the request went out (the close raced the reuse check, or a load
 * balancer dropped the connection when its back end died), and no byte of the response came. Only
 * where HTTP allows it: the method is idempotent (RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT,
 * DELETE), its body can be sent again, the connection had carried an earlier exchange (a fresh
 * connection that fails is the server's answer, not a stale connection), and this is the first
 * such retry of the call; or, whatever the method, a request none of which went out: the
 * connection closed before the client began to write it ({@link #mayResendUnsent}). Never after a
 * timeout ({@link #isTimeout}). For adapters;
 * not part of the user API. Stateless and thread-safe.
 */
public final class UnansweredRetry {
  private static final Set<String> IDEMPOTENT =
      Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

  private UnansweredRetry() {}

  /**
   * Whether the request may go out once more on a fresh connection.
   *
   * @param method the request's method
   * @param bodyRepeatable the request has no body, or one that can be written again
   * @param reusedConnection the failed connection had carried an earlier exchange
   * @param unanswered no byte of the response arrived before the failure
   * @param alreadyRetried this call was already sent again once for the same reason
   * @return true if the request may be sent again
   */
  public static boolean mayRetry(String method, boolean bodyRepeatable, boolean reusedConnection,
      boolean unanswered, boolean alreadyRetried) {
    return method != null && IDEMPOTENT.contains(method.toUpperCase(Locale.ROOT)) && bodyRepeatable
        && reusedConnection && unanswered && !alreadyRetried;
  }

  /**
   * Whether a request that never went out may go out once on a fresh connection: its connection
   * closed (the peer's FIN read just before the request was to be written) before the client
   * wrote any byte of it. Whatever the method: the server cannot have acted on a request it never
   * received (RFC 9110 9.2.2 lets a client retry where it can tell the request was never applied).
   *
   * @param bodyRepeatable the request has no body, or one that can be written again
   * @param alreadyRetried this call was already sent again once for a failed connection
   * @return true if the request may be sent again
   */
  public static boolean mayResendUnsent(boolean bodyRepeatable, boolean alreadyRetried) {
    return bodyRepeatable && !alreadyRetried;
  }

  /**
   * Whether {@code failure} (or a cause of it) is a timeout: the caller's bound on the wait, not the
   * peer's close. A request that timed out with no response byte was not dropped: the server may
   * still be working on it, and a second copy would run beside the first and double the caller's
   * wait. Never retried, as the clients' own retries leave it (HttpClient's default retry strategy
   * excludes {@link InterruptedIOException}, whose subclass {@link java.net.SocketTimeoutException}
   * every blocking client's read timeout throws; OkHttp retries a timeout only before the request
   * went out). Adapters whose client signals timeouts with types of its own (Netty's) check those
   * besides.
   *
   * @param failure the failure of the exchange
   * @return true if it is, or was caused by, a timeout
   */
  public static boolean isTimeout(Throwable failure) {
    // A bounded walk: a cause chain can be long, and a buggy one cyclic.
    Throwable t = failure;
    for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
      if (t instanceof InterruptedIOException || t instanceof TimeoutException) {
        return true;
      }
    }
    return false;
  }
}
