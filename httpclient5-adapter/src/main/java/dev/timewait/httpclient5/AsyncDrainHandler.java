package dev.timewait.httpclient5;

import dev.timewait.spi.CloseOutcome;
import java.nio.ByteBuffer;
import org.apache.hc.core5.reactor.IOEventHandler;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.util.Timeout;

/**
 * The event handler of one connection in FIN wait ({@link TimeWaitIOSession#getHandler} hands it
 * out instead of HttpCore's): reads the plain socket to the server's FIN ({@link
 * AsyncCloser#drain}, discarding at most {@link CloseOutcome#MAX_DRAIN_BYTES}), and ends the wait
 * through {@link AsyncCloser#finish}.
 * Reactor thread only.
 */
final class AsyncDrainHandler implements IOEventHandler {
  private final AsyncConnection connection;
  private final AsyncCloser closer;

  AsyncDrainHandler(AsyncConnection connection, AsyncCloser closer) {
    this.connection = connection;
    this.closer = closer;
  }

  @Override
  public void connected(IOSession session) {}

  @Override
  public void inputReady(IOSession session, ByteBuffer src) {
    closer.drain(connection);
  }

  @Override
  public void outputReady(IOSession session) {
    // Nothing to write; the TLS layer may have asked for a write (its close_notify) and
    // dropped read interest after our close: read, and only read, from now on. (A socket closed
    // meanwhile: the reactor's disconnect ends the wait.)
    connection.readEventsOnly();
  }

  @Override
  public void timeout(IOSession session, Timeout timeout) {
    long deadline = connection.finWaitDeadlineNanos;
    // 0: the wait has just begun and its deadline is not set yet; not a timeout.
    if (deadline != 0 && System.nanoTime() - deadline >= 0) {
      closer.finish(connection, CloseOutcome.FIN_WAIT_TIMEOUT);
    }
  }

  @Override
  public void exception(IOSession session, Exception cause) {
    closer.finish(connection, CloseOutcome.PEER_RESET);
  }

  @Override
  public void disconnected(IOSession session) {}
}
