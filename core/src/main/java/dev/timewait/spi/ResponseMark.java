package dev.timewait.spi;

/**
 * What a pooled connection had read when a request went out on it ({@link
 * SocketControl#markResponse}), so that a failed exchange can tell whether any byte of the
 * response arrived, even after the connection closed. Over TLS the alerts of the peer's close
 * (a few records, at most 128 bytes on the wire) are no response.
 *
 * <p>One mark per connection can serve every exchange on it without an object per request: keep
 * {@link #bytesRead()} as a {@code long} when a request goes out and ask {@link
 * #unansweredSince(long)} when it failed.
 *
 * <p>Thread-safe: immutable, reading a volatile count.
 */
public interface ResponseMark {
  /** {@return true if no byte of a response arrived since the mark} */
  boolean unanswered();

  /**
   * The bytes the connection has read from its peer so far, counted on the socket of the factory
   * (beneath TLS): a mark of this moment, kept as a {@code long}, for {@link
   * #unansweredSince(long)}.
   *
   * @return the bytes read so far
   */
  long bytesRead();

  /**
   * Whether no byte of a response arrived since the connection had read {@code bytesReadBefore}
   * ({@link #bytesRead()} taken as the request went out).
   *
   * @param bytesReadBefore {@link #bytesRead()} when the request went out
   * @return true if nothing but, over TLS, the alerts of the peer's close arrived since
   */
  boolean unansweredSince(long bytesReadBefore);
}
