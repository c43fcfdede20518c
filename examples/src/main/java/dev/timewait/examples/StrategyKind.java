package dev.timewait.examples;

import dev.timewait.CloseStrategy;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How the load engine's client closes its connections: {@link #NAIVE}, the mistake harnesses make
 * today, one of timewait's three strategies (each names its {@link CloseStrategy.Kind}, whose id
 * is its label), or {@link #RAW}: the client's own pool without timewait, to compare against.
 * Immutable and thread-safe (an enum).
 */
public enum StrategyKind {
  /**
   * A new default client per request, closed after it (Reactor Netty: {@code
   * HttpClient.newConnection()}, no pool): the client closes first and keeps TIME_WAIT for every
   * connection.
   */
  NAIVE("naive", null),
  /** timewait's server close ({@link dev.timewait.ServerClose}). */
  SERVER_CLOSE(null, CloseStrategy.Kind.SERVER_CLOSE),
  /** timewait's reset close ({@link dev.timewait.ResetClose}). */
  RESET(null, CloseStrategy.Kind.RESET),
  /** timewait's pooled keep-alive ({@link dev.timewait.PooledKeepAlive}). */
  POOLED(null, CloseStrategy.Kind.POOLED),
  /**
   * The same client without timewait: one shared client, pooled by the client's own defaults
   * (HttpClient 5: its pooling connection manager, re-validation after 2 s idle; OkHttp: its
   * connection pool), with the same timeouts and retry switch as the other kinds. For comparison.
   */
  RAW("raw", null);

  private final String label;
  private final CloseStrategy.Kind timewait;

  /** A baseline has its own label; one of timewait's strategies takes core's stable id. */
  StrategyKind(String label, CloseStrategy.Kind timewait) {
    this.label = timewait != null ? timewait.id() : label;
    this.timewait = timewait;
  }

  /** True for the kinds that use none of timewait's strategies: {@link #NAIVE} and {@link #RAW}. */
  public boolean withoutTimewait() {
    return timewait == null;
  }

  /** {@return core's kind of the strategy this runs, empty for {@link #NAIVE} and {@link #RAW}} */
  public Optional<CloseStrategy.Kind> timewait() {
    return Optional.ofNullable(timewait);
  }

  /** The name on the command line and in the output. */
  public String label() {
    return label;
  }

  /** The kind named {@code label}, or IAE listing the valid names. */
  public static StrategyKind of(String label) {
    for (StrategyKind k : values()) {
      if (k.label.equals(label)) {
        return k;
      }
    }
    throw new IllegalArgumentException("strategy must be one of " + labels() + ", but was " + label);
  }

  /** The valid names, comma-separated. */
  public static String labels() {
    return Arrays.stream(values()).map(StrategyKind::label).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return label;
  }
}
