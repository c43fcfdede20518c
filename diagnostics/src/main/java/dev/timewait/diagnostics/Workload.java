package dev.timewait.diagnostics;

import dev.timewait.CloseStrategy;
import dev.timewait.internal.Preconditions;

/**
 * What a client does towards one destination, as far as choosing a {@link CloseStrategy} goes:
 * the input of {@link StrategyAdvisor#advise(KernelSettings, Workload)}.
 *
 * <pre>{@code
 * Workload behindLoadBalancer = Workload.builder()
 *     .keepAliveAllowed(false)          // the test must open a connection per request
 *     .newConnectionsPerSecond(2000)
 *     .peerMayDisableTimestamps(true)   // a cloud load balancer
 *     .resetsAcceptable(false)
 *     .build();
 * }</pre>
 *
 * <p>Defaults: {@link #DEFAULT_KEEP_ALIVE_ALLOWED} (true), {@link
 * #DEFAULT_NEW_CONNECTIONS_PER_SECOND} (1000), {@link #DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS}
 * (true), {@link #DEFAULT_RESETS_ACCEPTABLE} (true), {@link #DEFAULT_LOOPBACK_DESTINATION}
 * (false). Immutable and thread-safe.
 *
 * @param keepAliveAllowed whether requests may share connections (the server and the test allow
 *     keep-alive)
 * @param newConnectionsPerSecond the connections per second the client would open if every
 *     request had its own connection: the request rate of a one-request-per-connection client;
 *     0 to {@link #MAX_NEW_CONNECTIONS_PER_SECOND}
 * @param peerMayDisableTimestamps whether the peer may have TCP timestamps off, as many cloud
 *     load balancers do; then {@code tcp_tw_reuse} cannot help
 * @param resetsAcceptable whether the server tolerates an RST after a complete exchange (no alarms,
 *     no error counts that matter)
 * @param loopbackDestination whether the destination is a loopback address (127.0.0.0/8, ::1),
 *     where the default {@code tcp_tw_reuse=2} applies
 */
public record Workload(
    boolean keepAliveAllowed,
    double newConnectionsPerSecond,
    boolean peerMayDisableTimestamps,
    boolean resetsAcceptable,
    boolean loopbackDestination) {

  // Workload's defaults stay compile-time constants, unlike the other modules' DEFAULT_* fields
  // (internal.NotInlined): the doctor CLI prints them in its picocli annotations, which accept
  // only constants. A later release changing one reaches code compiled against this one only
  // after that code is recompiled.

  /** Default {@link #keepAliveAllowed()}: true, as most HTTP servers allow it. */
  public static final boolean DEFAULT_KEEP_ALIVE_ALLOWED = true;
  /**
   * Default {@link #newConnectionsPerSecond()}: 1000, a load test's rate, above the roughly 470
   * per second the default port range sustains when the client closes first.
   */
  public static final double DEFAULT_NEW_CONNECTIONS_PER_SECOND = 1000;
  /** Default {@link #peerMayDisableTimestamps()}: true, the safe assumption for unknown peers. */
  public static final boolean DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS = true;
  /** Default {@link #resetsAcceptable()}: true, as after a complete exchange most servers do. */
  public static final boolean DEFAULT_RESETS_ACCEPTABLE = true;
  /** Default {@link #loopbackDestination()}: false. */
  public static final boolean DEFAULT_LOOPBACK_DESTINATION = false;
  /** The largest rate accepted: ten million new connections per second. */
  public static final double MAX_NEW_CONNECTIONS_PER_SECOND = 10_000_000;

  /**
   * Validates: the rate must lie in [0, {@link #MAX_NEW_CONNECTIONS_PER_SECOND}].
   *
   * @param keepAliveAllowed whether requests may share connections (the server and the test allow
   *     keep-alive)
   * @param newConnectionsPerSecond the connections per second the client would open if every
   *     request had its own connection: the request rate of a one-request-per-connection client;
   *     0 to {@link #MAX_NEW_CONNECTIONS_PER_SECOND}
   * @param peerMayDisableTimestamps whether the peer may have TCP timestamps off, as many cloud
   *     load balancers do; then {@code tcp_tw_reuse} cannot help
   * @param resetsAcceptable whether the server tolerates an RST after a complete exchange (no alarms,
   *     no error counts that matter)
   * @param loopbackDestination whether the destination is a loopback address (127.0.0.0/8, ::1),
   *     where the default {@code tcp_tw_reuse=2} applies
   */
  public Workload {
    Preconditions.checkInRange(newConnectionsPerSecond, 0, MAX_NEW_CONNECTIONS_PER_SECOND,
        "newConnectionsPerSecond");
  }

  /** {@return a builder that starts from the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link Workload}; {@link #build()} checks the values. Not thread-safe. */
  public static final class Builder {
    private boolean keepAliveAllowed = DEFAULT_KEEP_ALIVE_ALLOWED;
    private double newConnectionsPerSecond = DEFAULT_NEW_CONNECTIONS_PER_SECOND;
    private boolean peerMayDisableTimestamps = DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS;
    private boolean resetsAcceptable = DEFAULT_RESETS_ACCEPTABLE;
    private boolean loopbackDestination = DEFAULT_LOOPBACK_DESTINATION;

    private Builder() {}

    /**
     * Default {@link #DEFAULT_KEEP_ALIVE_ALLOWED}.
     *
     * @param keepAliveAllowed whether the client may reuse connections
     * @return this builder
     */
    public Builder keepAliveAllowed(boolean keepAliveAllowed) {
      this.keepAliveAllowed = keepAliveAllowed;
      return this;
    }

    /**
     * Default {@link #DEFAULT_NEW_CONNECTIONS_PER_SECOND}.
     *
     * @param newConnectionsPerSecond the rate, at least 0
     * @return this builder
     */
    public Builder newConnectionsPerSecond(double newConnectionsPerSecond) {
      this.newConnectionsPerSecond = newConnectionsPerSecond;
      return this;
    }

    /**
     * Default {@link #DEFAULT_PEER_MAY_DISABLE_TIMESTAMPS}.
     *
     * @param peerMayDisableTimestamps whether the peer may have TCP timestamps off
     * @return this builder
     */
    public Builder peerMayDisableTimestamps(boolean peerMayDisableTimestamps) {
      this.peerMayDisableTimestamps = peerMayDisableTimestamps;
      return this;
    }

    /**
     * Default {@link #DEFAULT_RESETS_ACCEPTABLE}.
     *
     * @param resetsAcceptable whether the server tolerates an RST after a complete exchange
     * @return this builder
     */
    public Builder resetsAcceptable(boolean resetsAcceptable) {
      this.resetsAcceptable = resetsAcceptable;
      return this;
    }

    /**
     * Default {@link #DEFAULT_LOOPBACK_DESTINATION}.
     *
     * @param loopbackDestination whether the server is on this host
     * @return this builder
     */
    public Builder loopbackDestination(boolean loopbackDestination) {
      this.loopbackDestination = loopbackDestination;
      return this;
    }

    /**
     * Returns the workload, or throws IAE naming the invalid field and its value.
     *
     * @return the new {@code Workload}
     */
    public Workload build() {
      return new Workload(keepAliveAllowed, newConnectionsPerSecond, peerMayDisableTimestamps,
          resetsAcceptable, loopbackDestination);
    }
  }
}
