package dev.timewait.diagnostics;

/**
 * The values of {@code net.ipv4.tcp_timestamps}. TCP timestamps (RFC 7323) must be on at BOTH
 * ends for {@code tcp_tw_reuse} to take over a TIME_WAIT port.
 *
 * <pre>{@code
 * boolean reuseCanWork = KernelSettings.read().timestamps().enabled();
 * }</pre>
 *
 * <p>Thread-safe (an enum).
 */
public enum TcpTimestamps {
  /** {@code 0}: off, so {@code tcp_tw_reuse} can never apply on this host. */
  OFF(0, "off: this host sends no TCP timestamps, so tcp_tw_reuse can never apply"),
  /** {@code 1}, the default: on, with a random offset per connection. */
  ON(1, "on, with a random offset per connection (the default)"),
  /** {@code 2}: on, without random offsets. */
  ON_WITHOUT_RANDOM_OFFSET(2, "on, without random offsets"),
  /** The setting could not be read, or held a value this library does not know. */
  UNKNOWN(-1, "unknown: the setting could not be read");

  private final int code;
  private final String description;

  TcpTimestamps(int code, String description) {
    this.code = code;
    this.description = description;
  }

  /** {@return the sysctl's value, or -1 for {@link #UNKNOWN}} */
  public int code() {
    return code;
  }

  /** {@return whether this host sends timestamps: {@link #ON} or {@link #ON_WITHOUT_RANDOM_OFFSET}} */
  public boolean enabled() {
    return this == ON || this == ON_WITHOUT_RANDOM_OFFSET;
  }

  /** {@return what the value means, in plain words} */
  public String describe() {
    return description;
  }

  /**
   * The value for the sysctl's number; {@link #UNKNOWN} for any other.
   *
   * @param code the kernel's state code
   * @return the value for the sysctl's number
   */
  public static TcpTimestamps ofCode(int code) {
    for (TcpTimestamps t : values()) {
      if (t.code == code && t != UNKNOWN) {
        return t;
      }
    }
    return UNKNOWN;
  }
}
