package dev.timewait;

import java.time.Duration;

/**
 * One connection's close, as a {@link CloseListener} receives it: how it closed ({@link Mode}),
 * why ({@link Reason}, {@link Reason#UNKNOWN} where the recording point cannot tell), towards
 * which destination, under which strategy, after how many requests and how long a life. Fields a
 * recording point does not know are {@code null} (destination, strategy) or negative (requests,
 * lifetime). Immutable and thread-safe.
 */
public final class CloseEvent {
  /** How the connection ended on the wire; which side keeps TIME_WAIT. */
  public enum Mode {
    /** The peer's FIN came first; the peer keeps TIME_WAIT. */
    AFTER_PEER_FIN,
    /** Closed with an RST (sent, or received from the peer): no TIME_WAIT anywhere. */
    RESET,
    /** This side sent its FIN first: TIME_WAIT stays on the client. */
    LOCALLY_FIRST
  }

  /** Why the connection was closed. */
  public enum Reason {
    /**
     * The strategy ends every connection after its exchange (server close, reset close; the
     * connection carried its one request).
     */
    STRATEGY,
    /** A pooled connection carried its request cap: its {@code maxRequestsPerConnection}-th request was its last. */
    REQUEST_CAP,
    /**
     * A pooled connection reached its lifetime: the first request sent once it was {@code
     * maxLifetime} old was its last.
     */
    LIFETIME,
    /**
     * The client's pool closed a pooled connection while it sat idle: past {@code idleTimeout},
     * or past the idle timeout its peer announced ({@code Keep-Alive: timeout}) or was seen to
     * keep, before the peer closed it.
     */
    IDLE_EVICTION,
    /** The peer closed a pooled connection while it sat idle (a stale connection). */
    PEER_CLOSED_IDLE,
    /**
     * The peer announced the end in a response: {@code Connection: close}, {@code Keep-Alive:
     * max=0}, HTTP/1.0 without keep-alive, a body that only the close ends (when the client had
     * not decided the end already).
     */
    PEER_ANNOUNCED,
    /**
     * The caller's own request said {@code Connection: close} (a header of its own, or a client
     * told not to keep connections alive) on a pooled connection it was not the last request of:
     * the client ends the connection after that exchange, whatever the peer answered (RFC 9112
     * 9.6: a client that sent close sends no further request on the connection).
     */
    CALLER_ASKED,
    /**
     * The exchange failed or was cancelled before it completed, or a server close's FIN wait was
     * cut short (a cancel, an interrupt, the client's shutdown).
     */
    EXCHANGE_ABORTED,
    /** A server close's wait for the peer's FIN ran out of time and reset. */
    FIN_WAIT_TIMEOUT,
    /** The client shut down while the connection was open (its close, or the adapter's shutdown). */
    SHUTDOWN,
    /** The recording point cannot tell. */
    UNKNOWN
  }

  private final String destination;
  private final CloseStrategy.Kind strategy;
  private final Mode mode;
  private final Reason reason;
  private final long requests;
  private final long lifetimeNanos;
  private final long finWaitNanos;

  CloseEvent(String destination, CloseStrategy.Kind strategy, Mode mode, Reason reason,
      long requests, long lifetimeNanos, long finWaitNanos) {
    this.destination = destination;
    this.strategy = strategy;
    this.mode = mode;
    this.reason = reason;
    this.requests = requests;
    this.lifetimeNanos = lifetimeNanos;
    this.finWaitNanos = finWaitNanos;
  }

  /** {@return the peer as {@code host:port}, or null where the recording point does not know it} */
  public String destination() {
    return destination;
  }

  /** {@return the client's strategy, or null (an observing factory, or not known)} */
  public CloseStrategy.Kind strategy() {
    return strategy;
  }

  /** {@return how the connection ended on the wire} */
  public Mode mode() {
    return mode;
  }

  /** {@return why it was closed} */
  public Reason reason() {
    return reason;
  }

  /** {@return the requests the connection carried, or -1 where not known} */
  public long requests() {
    return requests;
  }

  /** {@return the time from connect to close, or -1 where not known} */
  public long lifetimeNanos() {
    return lifetimeNanos;
  }

  /** {@return how long the close waited for the peer's FIN; 0 without a FIN wait} */
  public long finWaitNanos() {
    return finWaitNanos;
  }

  /** {@return {@link #finWaitNanos()} as a duration} */
  public Duration finWait() {
    return Duration.ofNanos(finWaitNanos);
  }

  @Override
  public String toString() {
    return "CloseEvent{destination=" + destination + ", strategy=" + strategy + ", mode=" + mode
        + ", reason=" + reason + ", requests=" + requests + ", lifetimeNanos=" + lifetimeNanos
        + ", finWaitNanos=" + finWaitNanos + "}";
  }
}
