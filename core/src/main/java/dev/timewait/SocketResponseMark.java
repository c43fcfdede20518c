package dev.timewait;

import dev.timewait.spi.ResponseMark;

/**
 * The {@link ResponseMark} of a factory's socket: the bytes read beneath TLS, less the alerts of
 * a peer's close ({@link TimeWaitSocketFactory#TLS_ALERT_BYTES}). Thread-safe: immutable, reading
 * a volatile count.
 */
final class SocketResponseMark implements ResponseMark {
  private final TimeWaitSocket socket;
  private final boolean layered;
  private final long markedBytes;

  SocketResponseMark(TimeWaitSocket socket, boolean layered) {
    this.socket = socket;
    this.layered = layered;
    this.markedBytes = socket.bytesRead();
  }

  @Override
  public boolean unanswered() {
    return unansweredSince(markedBytes);
  }

  @Override
  public long bytesRead() {
    return socket.bytesRead();
  }

  @Override
  public boolean unansweredSince(long bytesReadBefore) {
    long read = socket.bytesRead() - bytesReadBefore;
    return read == 0 || (layered && read <= TimeWaitSocketFactory.TLS_ALERT_BYTES);
  }
}
