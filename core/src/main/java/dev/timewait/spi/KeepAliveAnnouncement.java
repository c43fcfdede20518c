package dev.timewait.spi;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What a server announces about an idle connection in its {@code Keep-Alive} response header
 * ({@code timeout=N[, max=M]}, RFC 2068 19.7.1; sent by Node.js and Apache httpd, not by nginx or
 * HAProxy), turned into the rule adapters apply: a pooled connection retires once it has been idle
 * for {@link #retireAfterIdleNanos(String)}, before the server closes it. For adapters; not part
 * of the user API. Stateless and thread-safe.
 */
public final class KeepAliveAnnouncement {
  /** Not announced, or not understood: the pool's own idle timeout applies. */
  public static final long NOT_ANNOUNCED = -1;
  /** The largest margin kept before an announced timeout: 1 s. */
  private static final long MAX_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(1);

  private KeepAliveAnnouncement() {}

  /**
   * How long a connection may sit idle after a response carrying {@code keepAlive}, in
   * nanoseconds: the announced timeout less a margin of a fifth of it, at most 1 s (a request sent
   * at the timeout itself would race the server's close; 1 s becomes 800 ms, 5 s becomes 4 s).
   * {@link #NOT_ANNOUNCED} where the header is absent or has no valid {@code timeout}; 0 for
   * {@code timeout=0}.
   *
   * @param keepAlive the value of the response's {@code Keep-Alive} header, or null
   * @return the idle time after which the connection retires, or {@link #NOT_ANNOUNCED}
   */
  public static long retireAfterIdleNanos(String keepAlive) {
    long seconds = parameter(keepAlive, "timeout");
    if (seconds < 0) {
      return NOT_ANNOUNCED;
    }
    long timeout = TimeUnit.SECONDS.toNanos(seconds);
    return timeout - Math.min(MAX_MARGIN_NANOS, timeout / 5);
  }

  /**
   * The requests the server still accepts on the connection ({@code max=M}), or {@link
   * #NOT_ANNOUNCED}.
   *
   * @param keepAlive the value of the response's {@code Keep-Alive} header, or null
   * @return the announced {@code max}, or {@link #NOT_ANNOUNCED}
   */
  public static long remainingRequests(String keepAlive) {
    return parameter(keepAlive, "max");
  }

  /**
   * Whether the server said it takes no more requests on the connection ({@code max=0}): the
   * connection must not be reused. A server that caps requests also says {@code Connection: close}
   * on the last response it allows (Apache httpd does), which the clients heed themselves.
   *
   * @param keepAlive the value of the response's {@code Keep-Alive} header, or null
   * @return true if the header announces {@code max=0}
   */
  public static boolean allowsNoMoreRequests(String keepAlive) {
    return remainingRequests(keepAlive) == 0;
  }

  /**
   * Whether the server said it keeps the connection for no idle time at all ({@code timeout=0}):
   * the connection must not be reused either, since any next request would race the server's
   * close.
   *
   * @param keepAlive the value of the response's {@code Keep-Alive} header, or null
   * @return true if the header announces {@code timeout=0}
   */
  public static boolean allowsNoIdleTime(String keepAlive) {
    return parameter(keepAlive, "timeout") == 0;
  }

  /** The non-negative integer value of {@code name} in {@code header}, or -1. */
  private static long parameter(String header, String name) {
    if (header == null) {
      return NOT_ANNOUNCED;
    }
    for (String part : header.split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0 || !part.substring(0, eq).trim().toLowerCase(Locale.ROOT).equals(name)) {
        continue;
      }
      String value = part.substring(eq + 1).trim();
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      if (value.isEmpty() || value.length() > 9 || !value.chars().allMatch(Character::isDigit)) {
        return NOT_ANNOUNCED;
      }
      return Long.parseLong(value);
    }
    return NOT_ANNOUNCED;
  }
}
