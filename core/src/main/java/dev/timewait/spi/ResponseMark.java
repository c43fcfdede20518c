package dev.timewait.spi;

/**
 * What a pooled connection had read when a request went out on it ({@link
 * SocketControl#markResponse}), so that a failed exchange can tell whether the peer closed the
 * connection before any byte of the response arrived, even after the connection closed: the
 * exchange an unanswered retry may send again. Over TLS the alerts of the peer's close (a few
 * records, at most 128 bytes on the wire) are no response.
 *
 * <p>One mark per connection can serve every exchange on it without an object per request: keep
 * {@link #bytesRead()} as a {@code long} when a request goes out and ask {@link
 * #peerClosedUnansweredSince(long)} when it failed.
 *
 * <p>Thread-safe: immutable, reading volatile state.
 */
public interface ResponseMark {
  /**
   * {@return whether the peer closed the connection with no byte of a response since the mark}
   * ({@link #peerClosedUnansweredSince(long)} counted from the mark)
   */
  boolean peerClosedUnanswered();

  /**
   * The bytes the connection has read from its peer so far, counted on the socket of the factory
   * (beneath TLS): a mark of this moment, kept as a {@code long}, for {@link
   * #peerClosedUnansweredSince(long)}.
   *
   * @return the bytes read so far
   */
  long bytesRead();

  /**
   * Whether the peer closed the connection with no byte of a response since it had read {@code
   * bytesReadBefore} ({@link #bytesRead()} taken as the request went out): nothing arrived but,
   * over TLS, the alerts of the peer's close, and the connection shows the peer's end (those
   * alerts, its FIN, or a failure of the socket's own I/O). A failure of the caller's own request
   * body (a file gone), which leaves the connection as it was, is not one: the peer closed nothing.
   *
   * @param bytesReadBefore {@link #bytesRead()} when the request went out
   * @return true if the peer's close, and no response, came since
   */
  boolean peerClosedUnansweredSince(long bytesReadBefore);
}
