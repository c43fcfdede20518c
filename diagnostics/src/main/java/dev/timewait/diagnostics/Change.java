package dev.timewait.diagnostics;

import dev.timewait.internal.Preconditions;
import java.util.Locale;

/**
 * One thing to change on a host, or to leave alone, and why: an item of {@link
 * Diagnosis#changes()}. Immutable and thread-safe.
 *
 * @param topic what it is about
 * @param text the advice, in plain words
 */
public record Change(Change.Topic topic, String text) {

  /**
   * Validates: no component is null.
   *
   * @param topic what it is about
   * @param text the advice, in plain words
   */
  public Change {
    Preconditions.checkNotNull(topic, "topic");
    Preconditions.checkNotNull(text, "text");
  }

  /** What a change is about: a kernel setting, the port budget, TIME_WAIT now, or the strategy. */
  public enum Topic {
    /** The kernel settings could not be read here. */
    KERNEL,
    /** The ports a client that closes first has towards one destination. */
    PORT_BUDGET,
    /** Sockets in TIME_WAIT towards the destination now. */
    TIME_WAIT,
    /** {@code net.ipv4.tcp_tw_reuse}. */
    TCP_TW_REUSE,
    /** {@code net.ipv4.tcp_timestamps}. */
    TCP_TIMESTAMPS,
    /** {@code net.ipv4.tcp_fin_timeout}. */
    TCP_FIN_TIMEOUT,
    /** {@code net.ipv4.tcp_tw_recycle}. */
    TCP_TW_RECYCLE,
    /** {@code net.ipv4.tcp_max_tw_buckets}. */
    TCP_MAX_TW_BUCKETS,
    /** The close strategy to use. */
    STRATEGY;

    /** {@return the topic's key, its name in lower case: {@code tcp_tw_reuse}, {@code port_budget}} */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
