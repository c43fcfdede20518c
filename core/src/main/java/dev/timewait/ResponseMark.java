package dev.timewait;

/**
 * For adapters: what a pooled connection had read when a request went out on it ({@link
 * TimeWaitSocketFactory#markResponse}), so that a failed exchange can tell whether any byte of the
 * response arrived, even after the connection closed. Over TLS the alerts of the peer's close
 * (at most {@link TimeWaitSocketFactory#TLS_ALERT_BYTES} on the wire) are no response.
 *
 * <p>Thread-safe: immutable, reading a volatile count.
 */
public final class ResponseMark {
  private final TimeWaitSocket socket;
  private final boolean layered;
  private final long bytesRead;

  ResponseMark(TimeWaitSocket socket, boolean layered) {
    this.socket = socket;
    this.layered = layered;
    this.bytesRead = socket.bytesRead();
  }

  /** {@return true if no byte of a response arrived since the mark} */
  public boolean unanswered() {
    long read = socket.bytesRead() - bytesRead;
    return read == 0 || (layered && read <= TimeWaitSocketFactory.TLS_ALERT_BYTES);
  }
}
