package dev.timewait;

/**
 * For adapters: what a pooled connection had read when a request went out on it ({@link
 * TimeWaitSocketFactory#markResponse}), so that a failed exchange can tell whether any byte of the
 * response arrived, even after the connection closed. Over TLS the alerts of the peer's close
 * (at most {@link TimeWaitSocketFactory#TLS_ALERT_BYTES} on the wire) are no response.
 *
 * <p>One mark per connection can serve every exchange on it without an object per request: keep
 * {@link #bytesRead()} as a {@code long} when a request goes out and ask {@link
 * #unansweredSince(long)} when it failed.
 *
 * <p>Thread-safe: immutable, reading a volatile count.
 */
public final class ResponseMark {
  private final TimeWaitSocket socket;
  private final boolean layered;
  private final long markedBytes;

  ResponseMark(TimeWaitSocket socket, boolean layered) {
    this.socket = socket;
    this.layered = layered;
    this.markedBytes = socket.bytesRead();
  }

  /** {@return true if no byte of a response arrived since the mark} */
  public boolean unanswered() {
    return unansweredSince(markedBytes);
  }

  /**
   * The bytes the connection has read from its peer so far, counted on the socket of the factory
   * (beneath TLS): a mark of this moment, kept as a {@code long}, for {@link
   * #unansweredSince(long)}.
   *
   * @return the bytes read so far
   */
  public long bytesRead() {
    return socket.bytesRead();
  }

  /**
   * Whether no byte of a response arrived since the connection had read {@code bytesReadBefore}
   * ({@link #bytesRead()} taken as the request went out).
   *
   * @param bytesReadBefore {@link #bytesRead()} when the request went out
   * @return true if nothing but, over TLS, the alerts of the peer's close arrived since
   */
  public boolean unansweredSince(long bytesReadBefore) {
    long read = socket.bytesRead() - bytesReadBefore;
    return read == 0 || (layered && read <= TimeWaitSocketFactory.TLS_ALERT_BYTES);
  }
}
