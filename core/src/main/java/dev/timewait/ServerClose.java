package dev.timewait;

import dev.timewait.internal.Preconditions;
import java.time.Duration;

/**
 * Server close: every request carries {@code Connection: close}, and the client's close first
 * reads until the server's FIN, bounded by {@link #finWait()}, so TIME_WAIT lands on the server.
 * If the FIN does not come in time the client resets ({@code SO_LINGER(0)}) and counts a FIN-wait
 * timeout. A connection that closes before its exchange completed (cancel, error) is reset at
 * once, with no wait. A cancel, an interrupt of the waiting thread or the client's close during
 * the wait ends it at once with an RST, counted as a FIN-wait abort.
 *
 * <pre>{@code
 * ServerClose strategy = ServerClose.builder().finWait(Duration.ofMillis(500)).build();
 * }</pre>
 *
 * <p>Built only through {@link #builder()} (or {@link CloseStrategy#serverClose()}), so that a
 * setting can be added without breaking callers. Defaults: {@link #DEFAULT_FIN_WAIT} (2 s).
 * Immutable and thread-safe; equal when the settings are.
 */
public final class ServerClose implements CloseStrategy {

  /** The default FIN wait: 2 seconds. */
  public static final Duration DEFAULT_FIN_WAIT = Duration.ofSeconds(2);

  /** The largest FIN wait accepted: 60 seconds, the length of TIME_WAIT itself. */
  public static final Duration MAX_FIN_WAIT = Duration.ofSeconds(60);

  /**
   * The smallest FIN wait accepted: 1 millisecond. The blocking clients wait in reads whose
   * timeout is whole milliseconds, so a shorter wait ended before it began and made every close a
   * reset (and only on some clients: the async one's timer ticks every 10 ms).
   */
  public static final Duration MIN_FIN_WAIT = Duration.ofMillis(1);

  static final ServerClose DEFAULTS = new ServerClose(DEFAULT_FIN_WAIT);

  private final Duration finWait;

  private ServerClose(Duration finWait) {
    this.finWait = checkFinWait(finWait);
  }

  /** Positive, and between {@link #MIN_FIN_WAIT} and {@link #MAX_FIN_WAIT}; messages name finWait. */
  static Duration checkFinWait(Duration finWait) {
    Preconditions.checkPositive(finWait, MAX_FIN_WAIT, "finWait");
    return Preconditions.checkBetween(finWait, MIN_FIN_WAIT, MAX_FIN_WAIT, "finWait");
  }

  /**
   * {@return the longest a close waits for the server's FIN; between {@link #MIN_FIN_WAIT} and
   * {@link #MAX_FIN_WAIT}}
   */
  @Override
  public Duration finWait() {
    return finWait;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServerClose && ((ServerClose) o).finWait.equals(finWait);
  }

  @Override
  public int hashCode() {
    return finWait.hashCode();
  }

  @Override
  public String toString() {
    return "ServerClose[finWait=" + finWait + "]";
  }

  /** {@return a builder that starts from the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public Retirement retirement() {
    return Retirement.SERVER_CLOSE;
  }

  @Override
  public Kind kind() {
    return Kind.SERVER_CLOSE;
  }

  /** Builds a {@link ServerClose}. Not thread-safe; use one builder per thread. */
  public static final class Builder {
    private Duration finWait = DEFAULT_FIN_WAIT;

    private Builder() {}

    /**
     * The longest a close waits for the server's FIN. Default {@link #DEFAULT_FIN_WAIT}.
     *
     * @param finWait the longest a close waits for the server's FIN
     * @return this builder
     */
    public Builder finWait(Duration finWait) {
      this.finWait = checkFinWait(finWait);
      return this;
    }

    /**
     * Returns the strategy.
     *
     * @return the new {@code ServerClose}
     */
    public ServerClose build() {
      return new ServerClose(finWait);
    }
  }
}
