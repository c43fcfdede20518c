package dev.timewait;

import dev.timewait.spi.ResponseMark;

/**
 * The {@link ResponseMark} of a factory's socket: the bytes read beneath TLS, less the alerts of
 * a peer's close ({@link TimeWaitSocketFactory#TLS_ALERT_BYTES}), and the socket's own record of
 * the peer's FIN and of failed I/O. Thread-safe: immutable, reading volatile state.
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
  public boolean peerClosedUnanswered() {
    return peerClosedUnansweredSince(markedBytes);
  }

  @Override
  public long bytesRead() {
    return socket.bytesRead();
  }

  @Override
  public boolean peerClosedUnansweredSince(long bytesReadBefore) {
    long read = socket.bytesRead() - bytesReadBefore;
    if (read == 0) {
      // Nothing from the peer: its FIN read, or the socket failed (its RST, a write into its
      // close). Neither, and the exchange failed above the socket: the caller's own request body
      // (a file gone), with the connection as it was.
      return socket.peerEndedOrFailed();
    }
    return layered && read <= TimeWaitSocketFactory.TLS_ALERT_BYTES;
  }
}
