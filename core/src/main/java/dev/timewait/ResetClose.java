package dev.timewait;

import java.time.Duration;

/**
 * Reset close: one connection per request, closed with {@code SO_LINGER(0)} once the whole
 * request was written and the whole response read. The close sends an RST and neither side
 * keeps TIME_WAIT. The server sees a reset after each complete exchange.
 *
 * <pre>{@code
 * CloseStrategy strategy = CloseStrategy.reset();
 * }</pre>
 *
 * <p>Has no settings. Immutable and thread-safe; a singleton.
 */
public final class ResetClose implements CloseStrategy {

  static final ResetClose INSTANCE = new ResetClose();

  private ResetClose() {}

  @Override
  public Retirement retirement() {
    return Retirement.RESET;
  }

  /** Not used by reset close; returns {@link ServerClose#DEFAULT_FIN_WAIT}. */
  @Override
  public Duration finWait() {
    return ServerClose.DEFAULT_FIN_WAIT;
  }

  @Override
  public Kind kind() {
    return Kind.RESET;
  }

  @Override
  public String toString() {
    return "ResetClose[]";
  }
}
