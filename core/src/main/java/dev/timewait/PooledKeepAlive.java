package dev.timewait;

import dev.timewait.internal.NotInlined;
import dev.timewait.internal.Preconditions;
import java.time.Duration;
import java.util.Objects;

/**
 * Pooled keep-alive: few long-lived connections, so few connections ever close. The pool is
 * bounded in total and per route; a connection retires when it has been idle for {@link
 * #idleTimeout()}, with its first request once it has lived {@link #maxLifetime()}, or with its
 * {@link #maxRequestsPerConnection()}-th request. A retiring connection closes as {@link #retirement()}
 * says, and so do the connections a pool shutdown closes.
 *
 * <pre>{@code
 * PooledKeepAlive strategy = PooledKeepAlive.builder()
 *     .maxTotal(32)
 *     .maxPerRoute(16)
 *     .maxRequestsPerConnection(100)
 *     .retirement(Retirement.SERVER_CLOSE)
 *     .build();
 * }</pre>
 *
 * <p>Defaults: {@link #DEFAULT_MAX_TOTAL} (20), {@link #DEFAULT_MAX_PER_ROUTE} (20), {@link
 * #DEFAULT_IDLE_TIMEOUT} (30 s), {@link #DEFAULT_MAX_LIFETIME} (5 min), {@link
 * #DEFAULT_MAX_REQUESTS_PER_CONNECTION} (10,000), {@link #DEFAULT_RETIREMENT} ({@link
 * Retirement#RESET}), {@link ServerClose#DEFAULT_FIN_WAIT} (2 s) and {@link
 * #DEFAULT_STALE_CHECK_AFTER_IDLE} (500 ms) and {@link #DEFAULT_RETRY_UNANSWERED} (true). Immutable
 * and thread-safe.
 *
 * <p>A pooled connection is never handed out for a request once the peer is known to have closed
 * it: one idle for {@link #staleCheckAfterIdle()} or longer is checked first (a read of at most
 * 1 ms: the peer's FIN or RST is already in the socket), one whose peer announced an idle timeout
 * ({@code Keep-Alive: timeout=N}) retires before that timeout, and a response that ends its
 * connection (HTTP/1.0 without keep-alive, {@code Connection: close}) is never pooled.
 *
 * <p>Built only through {@link #builder()}, {@link #toBuilder()} or {@link
 * CloseStrategy#pooled()}, so that a setting can be added without breaking callers. Equal when
 * the settings are.
 */
public final class PooledKeepAlive implements CloseStrategy {

  /** Default {@link #maxTotal()}: 20 connections. */
  public static final int DEFAULT_MAX_TOTAL = NotInlined.of(20);
  /** Default {@link #maxPerRoute()}: 20 connections, since most clients call one load balancer. */
  public static final int DEFAULT_MAX_PER_ROUTE = NotInlined.of(20);
  /**
   * Default {@link #idleTimeout()}: 30 seconds, below the idle timeouts of nginx (75 s) and of the
   * common cloud load balancers (60 s), so the client retires a connection before the server does.
   */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
  /** Default {@link #maxLifetime()}: 5 minutes. */
  public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofMinutes(5);
  /**
   * Default {@link #maxRequestsPerConnection()}: 10,000. High enough that a reconnect is rare (a
   * cap of 500 cost the HttpClient 5 adapters 10-15% throughput on loopback), low enough that a
   * busy connection still turns over long before {@link #DEFAULT_MAX_LIFETIME}, so busy
   * clients spread over a load balancer's back ends. Servers with a lower cap of their own (nginx's
   * {@code keepalive_requests} 1000, Tomcat's 100) end the connection first with {@code
   * Connection: close}; that close leaves no TIME_WAIT on the client either. In a closed loop at
   * 20,000-50,000 requests a second on four connections even this cap costs the HttpClient 5
   * clients and Reactor Netty 5-10% throughput over a 14 s run (Reactor Netty's raw client pays the
   * same for it by hand). On Reactor Netty that is the JIT: the first close and connect after
   * warm-up deoptimize ~130 compiled methods at once, and the client needs 5-30 s to recover; past
   * that the cap costs nothing measurable. Any first reconnect does the same, so a higher cap only
   * delays it (docs/benchmarks.md, sessions 16 and 20).
   */
  public static final int DEFAULT_MAX_REQUESTS_PER_CONNECTION = NotInlined.of(10_000);
  /** Default {@link #retirement()}: {@link Retirement#RESET}, which adds no latency. */
  public static final Retirement DEFAULT_RETIREMENT = Retirement.RESET;
  /**
   * Default {@link #staleCheckAfterIdle()}: 500 ms. The check costs up to 1 ms on a live
   * connection (a read with the smallest timeout the JDK takes) and nothing on a busy one; peers
   * close idle connections after seconds (gunicorn 2 s, Node.js and Apache httpd 5 s, nginx 75 s,
   * load balancers as configured, rarely under 1 s).
   */
  public static final Duration DEFAULT_STALE_CHECK_AFTER_IDLE = Duration.ofMillis(500);
  /**
   * Default {@link #retryUnanswered()}: true. The reuse check leaves a window of microseconds in
   * which the peer's close can cross the request, and a load balancer whose back end dies drops
   * the client's connection without an answer; RFC 9110 9.2.2 lets a client send an idempotent
   * request again. Only idempotent requests with repeatable bodies, only on a connection that had
   * carried an earlier exchange, only before any response byte, and once per call; independent of
   * the client's own retry settings, which still govern every other failure. A request none of
   * which went out (the async HttpClient read the peer's FIN just before it would have begun it)
   * is sent once more whatever its method: the server never saw it.
   */
  public static final boolean DEFAULT_RETRY_UNANSWERED = NotInlined.of(true);

  /** The largest pool accepted: 65,535 connections, more than any port range holds. */
  public static final int MAX_CONNECTIONS = NotInlined.of(65_535);
  /** The largest idle timeout or lifetime accepted: 24 hours. */
  public static final Duration MAX_DURATION = Duration.ofHours(24);
  /**
   * The smallest idle timeout or lifetime accepted: 10 ms. Shorter values make pool cleanup
   * threads spin (OkHttp #6838).
   */
  public static final Duration MIN_DURATION = Duration.ofMillis(10);

  static final PooledKeepAlive DEFAULTS = builder().build();

  private final int maxTotal;
  private final int maxPerRoute;
  private final Duration idleTimeout;
  private final Duration maxLifetime;
  private final int maxRequestsPerConnection;
  private final Retirement retirement;
  private final Duration finWait;
  private final Duration staleCheckAfterIdle;
  private final boolean retryUnanswered;

  /** Validates every setting; messages name the field and the value. */
  private PooledKeepAlive(
      int maxTotal,
      int maxPerRoute,
      Duration idleTimeout,
      Duration maxLifetime,
      int maxRequestsPerConnection,
      Retirement retirement,
      Duration finWait,
      Duration staleCheckAfterIdle,
      boolean retryUnanswered) {
    Preconditions.checkInRange(maxTotal, 1, MAX_CONNECTIONS, "maxTotal");
    Preconditions.checkInRange(maxPerRoute, 1, MAX_CONNECTIONS, "maxPerRoute");
    if (maxPerRoute > maxTotal) {
      throw new IllegalArgumentException(
          "maxPerRoute must be <= maxTotal (" + maxTotal + "), but was " + maxPerRoute);
    }
    checkDuration(idleTimeout, "idleTimeout");
    checkDuration(maxLifetime, "maxLifetime");
    Preconditions.checkPositive(maxRequestsPerConnection, "maxRequestsPerConnection");
    Preconditions.checkNotNull(retirement, "retirement");
    ServerClose.checkFinWait(finWait);
    Preconditions.checkNonNegative(staleCheckAfterIdle, MAX_DURATION, "staleCheckAfterIdle");
    this.maxTotal = maxTotal;
    this.maxPerRoute = maxPerRoute;
    this.idleTimeout = idleTimeout;
    this.maxLifetime = maxLifetime;
    this.maxRequestsPerConnection = maxRequestsPerConnection;
    this.retirement = retirement;
    this.finWait = finWait;
    this.staleCheckAfterIdle = staleCheckAfterIdle;
    this.retryUnanswered = retryUnanswered;
  }

  /** {@return the most connections open at once, over all routes; 1 to {@link #MAX_CONNECTIONS}} */
  public int maxTotal() {
    return maxTotal;
  }

  /** {@return the most connections open at once to one route; 1 to {@code maxTotal}} */
  public int maxPerRoute() {
    return maxPerRoute;
  }

  /** {@return how long a connection may sit idle before it retires} */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** {@return how long a connection lives before its next request is its last} */
  public Duration maxLifetime() {
    return maxLifetime;
  }

  /** {@return the requests a connection serves before it retires} */
  public int maxRequestsPerConnection() {
    return maxRequestsPerConnection;
  }

  /** {@return how a retiring connection closes} */
  @Override
  public Retirement retirement() {
    return retirement;
  }

  /** {@return the longest a server-close retirement waits for the server's FIN} */
  @Override
  public Duration finWait() {
    return finWait;
  }

  /**
   * {@return how long a connection may sit idle before it is checked for the peer's close when it
   * is next used}
   */
  public Duration staleCheckAfterIdle() {
    return staleCheckAfterIdle;
  }

  /**
   * {@return whether an idempotent request whose reused connection failed before any byte of the
   * response arrived, or any request whose connection closed before it went out, is sent once
   * more on a fresh connection}
   */
  public boolean retryUnanswered() {
    return retryUnanswered;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof PooledKeepAlive)) {
      return false;
    }
    PooledKeepAlive other = (PooledKeepAlive) o;
    return maxTotal == other.maxTotal
        && maxPerRoute == other.maxPerRoute
        && idleTimeout.equals(other.idleTimeout)
        && maxLifetime.equals(other.maxLifetime)
        && maxRequestsPerConnection == other.maxRequestsPerConnection
        && retirement == other.retirement
        && finWait.equals(other.finWait)
        && staleCheckAfterIdle.equals(other.staleCheckAfterIdle)
        && retryUnanswered == other.retryUnanswered;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxTotal, maxPerRoute, idleTimeout, maxLifetime, maxRequestsPerConnection,
        retirement, finWait, staleCheckAfterIdle, retryUnanswered);
  }

  @Override
  public String toString() {
    return "PooledKeepAlive[maxTotal=" + maxTotal + ", maxPerRoute=" + maxPerRoute
        + ", idleTimeout=" + idleTimeout + ", maxLifetime=" + maxLifetime
        + ", maxRequestsPerConnection=" + maxRequestsPerConnection + ", retirement=" + retirement
        + ", finWait=" + finWait + ", staleCheckAfterIdle=" + staleCheckAfterIdle
        + ", retryUnanswered=" + retryUnanswered + "]";
  }

  private static void checkDuration(Duration value, String name) {
    Preconditions.checkPositive(value, MAX_DURATION, name); // "> 0" for zero and below
    Preconditions.checkBetween(value, MIN_DURATION, MAX_DURATION, name);
  }

  /** {@return a builder that starts from the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts from this strategy's values. A {@code maxPerRoute} equal to what
   * {@code build()} works out from {@code maxTotal} is left to be worked out again, so that
   * {@code pooled().toBuilder().maxTotal(8).build()} lowers it with {@code maxTotal}, as
   * {@code builder().maxTotal(8).build()} does.
   *
   * @return a builder with this strategy's values
   */
  public Builder toBuilder() {
    Builder builder = new Builder().maxTotal(maxTotal);
    if (maxPerRoute != Builder.derivedMaxPerRoute(maxTotal)) {
      builder.maxPerRoute(maxPerRoute);
    }
    return builder
        .idleTimeout(idleTimeout)
        .maxLifetime(maxLifetime)
        .maxRequestsPerConnection(maxRequestsPerConnection)
        .retirement(retirement)
        .finWait(finWait)
        .staleCheckAfterIdle(staleCheckAfterIdle)
        .retryUnanswered(retryUnanswered);
  }

  @Override
  public Kind kind() {
    return Kind.POOLED;
  }

  /**
   * Builds a {@link PooledKeepAlive}. Values are checked by {@link #build()}, and nulls at once.
   * Not thread-safe; use one builder per thread.
   */
  public static final class Builder {
    private int maxTotal = DEFAULT_MAX_TOTAL;
    private Integer maxPerRoute;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Duration maxLifetime = DEFAULT_MAX_LIFETIME;
    private int maxRequestsPerConnection = DEFAULT_MAX_REQUESTS_PER_CONNECTION;
    private Retirement retirement = DEFAULT_RETIREMENT;
    private Duration finWait = ServerClose.DEFAULT_FIN_WAIT;
    private Duration staleCheckAfterIdle = DEFAULT_STALE_CHECK_AFTER_IDLE;
    private boolean retryUnanswered = DEFAULT_RETRY_UNANSWERED;

    private Builder() {}

    /**
     * Default {@link #DEFAULT_MAX_TOTAL}.
     *
     * @param maxTotal the most connections open at once
     * @return this builder
     */
    public Builder maxTotal(int maxTotal) {
      this.maxTotal = maxTotal;
      return this;
    }

    /**
     * Default {@link #DEFAULT_MAX_PER_ROUTE}, lowered to {@code maxTotal} if that is smaller.
     *
     * @param maxPerRoute the most connections open at once to one route
     * @return this builder
     */
    public Builder maxPerRoute(int maxPerRoute) {
      this.maxPerRoute = maxPerRoute;
      return this;
    }

    /**
     * Default {@link #DEFAULT_IDLE_TIMEOUT}.
     *
     * @param idleTimeout how long an unused connection stays open
     * @return this builder
     */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = Preconditions.checkNotNull(idleTimeout, "idleTimeout");
      return this;
    }

    /**
     * Default {@link #DEFAULT_MAX_LIFETIME}.
     *
     * @param maxLifetime how long a connection may live
     * @return this builder
     */
    public Builder maxLifetime(Duration maxLifetime) {
      this.maxLifetime = Preconditions.checkNotNull(maxLifetime, "maxLifetime");
      return this;
    }

    /**
     * Default {@link #DEFAULT_MAX_REQUESTS_PER_CONNECTION}.
     *
     * @param maxRequestsPerConnection the requests after which a connection retires
     * @return this builder
     */
    public Builder maxRequestsPerConnection(int maxRequestsPerConnection) {
      this.maxRequestsPerConnection = maxRequestsPerConnection;
      return this;
    }

    /**
     * Default {@link #DEFAULT_RETIREMENT}.
     *
     * @param retirement how a retiring connection closes
     * @return this builder
     */
    public Builder retirement(Retirement retirement) {
      this.retirement = Preconditions.checkNotNull(retirement, "retirement");
      return this;
    }

    /**
     * Default {@link ServerClose#DEFAULT_FIN_WAIT}; used by {@link Retirement#SERVER_CLOSE}.
     *
     * @param finWait the longest a close waits for the server's FIN
     * @return this builder
     */
    public Builder finWait(Duration finWait) {
      this.finWait = Preconditions.checkNotNull(finWait, "finWait");
      return this;
    }

    /**
     * Default {@link #DEFAULT_STALE_CHECK_AFTER_IDLE}; {@code Duration.ZERO} checks on every
     * reuse, which costs up to 1 ms per request on a live connection (the check's read).
     *
     * @param staleCheckAfterIdle the idle time after which a connection is checked before reuse
     * @return this builder
     */
    public Builder staleCheckAfterIdle(Duration staleCheckAfterIdle) {
      this.staleCheckAfterIdle =
          Preconditions.checkNotNull(staleCheckAfterIdle, "staleCheckAfterIdle");
      return this;
    }

    /**
     * Default {@link #DEFAULT_RETRY_UNANSWERED}.
     *
     * @param retryUnanswered whether an idempotent request is sent once more on a fresh connection
     *     when its reused connection failed before any byte of the response arrived, and any
     *     request when its connection closed before it went out
     * @return this builder
     */
    public Builder retryUnanswered(boolean retryUnanswered) {
      this.retryUnanswered = retryUnanswered;
      return this;
    }

    /**
     * Returns the strategy, or throws IAE naming the first invalid field and its value.
     *
     * @return the new {@code PooledKeepAlive}
     */
    public PooledKeepAlive build() {
      int perRoute = maxPerRoute != null ? maxPerRoute : derivedMaxPerRoute(maxTotal);
      return new PooledKeepAlive(
          maxTotal, perRoute, idleTimeout, maxLifetime, maxRequestsPerConnection, retirement, finWait,
          staleCheckAfterIdle, retryUnanswered);
    }

    /** The per-route bound of a builder that was not given one: the default, or maxTotal if smaller. */
    static int derivedMaxPerRoute(int maxTotal) {
      return Math.min(DEFAULT_MAX_PER_ROUTE, maxTotal);
    }
  }
}
