package dev.timewait;

import java.time.Duration;

/**
 * How an HTTP client's connections close, so that TIME_WAIT never piles up on the client.
 * One of three immutable strategies:
 *
 * <ul>
 *   <li>{@link ServerClose}: every request carries {@code Connection: close}; the client waits,
 *       bounded by {@link ServerClose#finWait()}, for the server's FIN and only then closes, so
 *       TIME_WAIT lands on the server. On timeout it resets.
 *   <li>{@link ResetClose}: one connection per request, closed with {@code SO_LINGER(0)} after the
 *       exchange is complete: an RST, and no TIME_WAIT on either side.
 *   <li>{@link PooledKeepAlive}: a bounded pool of long-lived connections, each retired by
 *       {@link Retirement}.
 * </ul>
 *
 * <pre>{@code
 * CloseStrategy strategy = CloseStrategy.serverClose();
 * CloseStrategy tuned = ServerClose.builder().finWait(Duration.ofMillis(500)).build();
 * CloseStrategy pooled = PooledKeepAlive.builder().maxTotal(16).maxRequestsPerConnection(100).build();
 * }</pre>
 *
 * <p>Every implementation is immutable and thread-safe.
 */
public sealed interface CloseStrategy permits ServerClose, ResetClose, PooledKeepAlive {

  /** {@return server close with its defaults ({@link ServerClose#DEFAULT_FIN_WAIT})} */
  static ServerClose serverClose() {
    return ServerClose.DEFAULTS;
  }

  /** {@return reset close} */
  static ResetClose reset() {
    return ResetClose.INSTANCE;
  }

  /** {@return pooled keep-alive with its defaults; see {@link PooledKeepAlive}} */
  static PooledKeepAlive pooled() {
    return PooledKeepAlive.DEFAULTS;
  }

  /** {@return how a connection closes when nobody asked the server to close it first} */
  Retirement retirement();

  /**
   * The longest a close waits for the server's FIN after {@code Connection: close}, before it
   * resets instead. Used only when {@link #retirement()} is {@link Retirement#SERVER_CLOSE}.
   *
   * @return the longest a close waits for the server's FIN after {@code Connection: close}, before it resets instead
   */
  Duration finWait();

  /** {@return whether connections are reused for more than one request} */
  default boolean keepAlive() {
    return kind() == Kind.POOLED;
  }

  /** {@return which of the three strategies this is} */
  Kind kind();

  /**
   * A short stable name, for logs and command lines: {@link Kind#id()}.
   *
   * @return {@code server-close}, {@code reset} or {@code pooled}
   */
  default String name() {
    return kind().id();
  }

  /**
   * The three strategies, as a value to switch on or to choose one by (a command line's
   * {@code --strategy}); {@link #forId} reads the stable {@link #id()} back. Thread-safe (an enum).
   */
  enum Kind {
    /** {@link ServerClose}. */
    SERVER_CLOSE("server-close"),
    /** {@link ResetClose}. */
    RESET("reset"),
    /** {@link PooledKeepAlive}. */
    POOLED("pooled");

    private final String id;

    Kind(String id) {
      this.id = id;
    }

    /** {@return the stable name: {@code server-close}, {@code reset} or {@code pooled}} */
    public String id() {
      return id;
    }

    /** {@return the strategy of this kind with its defaults} */
    public CloseStrategy defaults() {
      switch (this) {
        case SERVER_CLOSE:
          return CloseStrategy.serverClose();
        case RESET:
          return CloseStrategy.reset();
        case POOLED:
        default:
          return CloseStrategy.pooled();
      }
    }

    /**
     * The kind whose {@link #id()} is {@code id}.
     *
     * @param id {@code server-close}, {@code reset} or {@code pooled}
     * @return the kind
     * @throws IllegalArgumentException naming the value and the accepted ones, for any other
     */
    public static Kind forId(String id) {
      dev.timewait.internal.Preconditions.checkNotNull(id, "id");
      for (Kind kind : values()) {
        if (kind.id.equals(id)) {
          return kind;
        }
      }
      throw new IllegalArgumentException(
          "strategy must be one of server-close, reset, pooled, but was " + id);
    }
  }
}
