package dev.timewait.httpclient5;

import dev.timewait.httpclient5.AsyncConnection.State;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.locks.Lock;
import org.apache.hc.core5.http.nio.command.ShutdownCommand;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.Command;
import org.apache.hc.core5.reactor.IOEventHandler;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.util.Timeout;

/**
 * The async client's view of one I/O session (plain, or the TLS layer over it), as the reactor's
 * session decorator hands it out: it delegates everything, except that closes go to {@link
 * AsyncCloser#close}, a plain read of end-of-stream is noted, and while the connection waits
 * for the server's FIN the reactor's events go to the drain handler and the session reports itself
 * closing.
 *
 * <p>Thread-safe as the session it wraps.
 */
final class TimeWaitIOSession implements IOSession {
  private final IOSession delegate;
  private final AsyncConnection connection;
  private final AsyncConnections connections;
  private final boolean tls;
  private final IOEventHandler drain;

  TimeWaitIOSession(
      IOSession delegate, AsyncConnection connection, AsyncConnections connections, boolean tls) {
    this.delegate = delegate;
    this.connection = connection;
    this.connections = connections;
    this.tls = tls;
    // Only a strategy that closes by the server has FIN waits, and so a drain handler.
    this.drain = connections.closer().closesByServer()
        ? new AsyncDrainHandler(connection, connections.closer())
        : null;
    connection.layer = this;
  }

  /** Whether this is the TLS layer's session (HttpCore's TLS layer beneath the decorator). */
  boolean tls() {
    return tls;
  }

  /** The connection this session is a layer of. */
  AsyncConnection connection() {
    return connection;
  }

  /** The session beneath the decorator: HttpCore's TLS layer, or the plain session. */
  IOSession delegate() {
    return delegate;
  }

  /** The status of the session beneath the decorator (the TLS layer's own, for TLS). */
  Status delegateStatus() {
    return delegate.getStatus();
  }

  private boolean finWaiting() {
    return connection.state() == State.FIN_WAIT;
  }

  @Override
  public IOEventHandler getHandler() {
    return finWaiting() ? drain : delegate.getHandler();
  }

  @Override
  public void upgrade(IOEventHandler handler) {
    delegate.upgrade(handler);
  }

  @Override
  public Lock getLock() {
    return delegate.getLock();
  }

  @Override
  public void enqueue(Command command, Command.Priority priority) {
    if (command instanceof ShutdownCommand) {
      // The client is closing: HttpCore enqueues this on every session. The connection ends now.
      connections.closer().shutdown(connection, delegate, ((ShutdownCommand) command).getType());
    }
    if (connection.state() != State.OPEN) {
      command.cancel(); // the connection is closing: nothing more runs on it
      return;
    }
    if (StaleChecks.is(command) && connections.peerIdle().retireOnStaleCheck(connection)) {
      // HttpClient asks before it reuses a connection idle past validateAfterInactivity: past
      // what was learned of the peer's idle timeout, the answer is "stale", and the pool
      // discards the connection instead of racing the peer's close with a request.
      StaleChecks.answerStale(command);
      return;
    }
    delegate.enqueue(command, priority);
  }

  @Override
  public boolean hasCommands() {
    return delegate.hasCommands();
  }

  @Override
  public Command poll() {
    return delegate.poll();
  }

  @Override
  public ByteChannel channel() {
    return delegate.channel();
  }

  @Override
  public SocketAddress getRemoteAddress() {
    return delegate.getRemoteAddress();
  }

  @Override
  public SocketAddress getLocalAddress() {
    return delegate.getLocalAddress();
  }

  @Override
  public int getEventMask() {
    return delegate.getEventMask();
  }

  @Override
  public void setEventMask(int ops) {
    if (!finWaiting()) {
      delegate.setEventMask(ops);
    }
  }

  @Override
  public void setEvent(int op) {
    if (!finWaiting()) {
      delegate.setEvent(op);
    }
  }

  @Override
  public void clearEvent(int op) {
    if (!finWaiting()) {
      delegate.clearEvent(op);
    }
  }

  @Override
  public void close() {
    close(CloseMode.GRACEFUL);
  }

  @Override
  public void close(CloseMode closeMode) {
    connections.closer().close(connection, delegate, closeMode);
  }

  @Override
  public Status getStatus() {
    switch (connection.state()) {
      case FIN_WAIT:
        return Status.CLOSING;
      case CLOSED:
        return Status.CLOSED;
      case OPEN:
      default:
        return delegate.getStatus();
    }
  }

  @Override
  public boolean isOpen() {
    return connection.state() == State.OPEN && delegate.isOpen();
  }

  @Override
  public Timeout getSocketTimeout() {
    return delegate.getSocketTimeout();
  }

  @Override
  public void setSocketTimeout(Timeout timeout) {
    delegate.setSocketTimeout(timeout);
  }

  @Override
  public long getLastReadTime() {
    return delegate.getLastReadTime();
  }

  @Override
  public long getLastWriteTime() {
    return delegate.getLastWriteTime();
  }

  @Override
  public long getLastEventTime() {
    return delegate.getLastEventTime();
  }

  @Override
  public void updateReadTime() {
    delegate.updateReadTime();
  }

  @Override
  public void updateWriteTime() {
    delegate.updateWriteTime();
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    int n;
    try {
      n = delegate.read(dst);
    } catch (IOException e) {
      // Most often "Connection reset": an RST on an idle pooled connection is the peer's idle
      // close too (a balancer set to reset idle connections), as core's socket counts one
      // (before, EXCHANGE_ABORTED here, and nothing learned).
      connections.peerIdle().peerClosed(connection);
      throw e;
    }
    if (n < 0) {
      connection.peerEnded = true;
      connections.peerIdle().peerClosed(connection);
      if (!tls) {
        connection.peerFinSeen = true; // the plain socket's end of stream: the server's FIN
      }
    }
    return n;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    if (connection.state() != State.OPEN) {
      throw new ClosedChannelException();
    }
    return delegate.write(src);
  }

  @Override
  public String getId() {
    return delegate.getId();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
