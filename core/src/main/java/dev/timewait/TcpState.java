package dev.timewait;

/**
 * The TCP states as the kernel numbers them in {@code /proc/net/tcp} ({@code include/net/tcp_states.h}).
 *
 * <p>Thread-safe (an enum).
 */
public enum TcpState {
  ESTABLISHED(0x01),
  SYN_SENT(0x02),
  SYN_RECV(0x03),
  FIN_WAIT1(0x04),
  FIN_WAIT2(0x05),
  /** The state this library is about: 60 s after an active close, holding the 4-tuple's port. */
  TIME_WAIT(0x06),
  CLOSE(0x07),
  CLOSE_WAIT(0x08),
  LAST_ACK(0x09),
  LISTEN(0x0A),
  CLOSING(0x0B),
  NEW_SYN_RECV(0x0C);

  private static final TcpState[] BY_CODE = new TcpState[16];

  static {
    for (TcpState s : values()) {
      BY_CODE[s.code] = s;
    }
  }

  private final int code;

  TcpState(int code) {
    this.code = code;
  }

  /** The kernel's number for this state. */
  public int code() {
    return code;
  }

  /** The state with the kernel's number {@code code}, or null if there is none. */
  public static TcpState ofCode(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
