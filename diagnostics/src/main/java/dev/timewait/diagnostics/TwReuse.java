package dev.timewait.diagnostics;

/**
 * The values of {@code net.ipv4.tcp_tw_reuse}: whether {@code connect()} may take over a local
 * port whose earlier connection to the same destination sits in TIME_WAIT. Reuse needs TCP
 * timestamps on BOTH ends and a TIME_WAIT at least 1 s old ({@code tcp_tw_reuse_delay} on the
 * kernels that have it), and counts as {@code TcpExt.TWRecycled}.
 *
 * <pre>{@code
 * TwReuse reuse = KernelSettings.read().twReuse();
 * System.out.println(reuse.code() + ": " + reuse.describe());
 * }</pre>
 *
 * <p>Thread-safe (an enum).
 */
public enum TwReuse {
  /** {@code 0}: never reuse. */
  OFF(0, "off: a port in TIME_WAIT is never reused for a new outgoing connection"),
  /** {@code 1}: reuse towards every destination. */
  ALL(1, "on for every destination: connect() may take over a TIME_WAIT port, but only when both"
      + " ends use TCP timestamps; a peer with timestamps off (many cloud load balancers) gets no"
      + " reuse"),
  /** {@code 2}, the kernel's default: reuse only for loopback connections. */
  LOOPBACK_ONLY(2, "loopback only (the kernel's default): TIME_WAIT ports are reused only for"
      + " connections to or from 127.0.0.0/8 or ::1; towards any other address there is no reuse"),
  /** The setting could not be read, or held a value this library does not know. */
  UNKNOWN(-1, "unknown: the setting could not be read");

  private final int code;
  private final String description;

  TwReuse(int code, String description) {
    this.code = code;
    this.description = description;
  }

  /** {@return the sysctl's value, or -1 for {@link #UNKNOWN}} */
  public int code() {
    return code;
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
  public static TwReuse ofCode(int code) {
    for (TwReuse r : values()) {
      if (r.code == code && r != UNKNOWN) {
        return r;
      }
    }
    return UNKNOWN;
  }
}
