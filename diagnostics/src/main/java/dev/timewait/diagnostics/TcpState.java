package dev.timewait.diagnostics;

/**
 * The TCP states as the kernel numbers them in {@code /proc/net/tcp} ({@code include/net/tcp_states.h}).
 *
 * <p>Thread-safe (an enum).
 */
public enum TcpState {
  /** Open: data flows both ways. */
  ESTABLISHED(0x01),
  /** Connecting: our SYN is sent, no answer yet. */
  SYN_SENT(0x02),
  /** A peer's SYN answered, waiting for its ACK. */
  SYN_RECV(0x03),
  /** We closed first; our FIN is not acknowledged yet. */
  FIN_WAIT1(0x04),
  /** We closed first; our FIN is acknowledged, the peer's FIN not yet received. */
  FIN_WAIT2(0x05),
  /** The state this library is about: 60 s after an active close, holding the 4-tuple's port. */
  TIME_WAIT(0x06),
  /** Closed; no connection. */
  CLOSE(0x07),
  /** The peer closed first; we have not closed yet. */
  CLOSE_WAIT(0x08),
  /** The peer closed first, then we did; waiting for the ACK of our FIN. */
  LAST_ACK(0x09),
  /** A server socket waiting for connections. */
  LISTEN(0x0A),
  /** Both sides closed at once; waiting for the ACK of our FIN. */
  CLOSING(0x0B),
  /** A request socket: the kernel's lightweight form of {@link #SYN_RECV}. */
  NEW_SYN_RECV(0x0C);

  private final int code;

  TcpState(int code) {
    this.code = code;
  }

  /** {@return the kernel's number for this state} */
  public int code() {
    return code;
  }
}
