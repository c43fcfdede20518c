package dev.timewait.httpclient5;

import java.net.SocketAddress;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hc.core5.reactor.IOSession;

/**
 * One TCP connection of the async client, as the adapter tracks it: its raw (plain) I/O session,
 * endpoints, request count, whether its exchange ended it by agreement ({@link #armed}), and how it
 * closed. Thread-safe: every field is atomic or volatile; transitions use compare-and-set.
 */
final class AsyncConnection {
  enum State {
    OPEN,
    /** Closed by the client, waiting for the server's FIN through the reactor. */
    FIN_WAIT,
    CLOSED
  }

  /** The reactor's own session for the socket: plain, beneath any TLS. */
  final IOSession raw;
  final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
  final AtomicBoolean opened = new AtomicBoolean();
  final AtomicBoolean counted = new AtomicBoolean();
  final AtomicLong requests = new AtomicLong();
  /** When the TCP connection was seen up, for its lifetime. */
  volatile long openedNanos = System.nanoTime();
  /** The request under way is the connection's last ({@link dev.timewait.spi.ConnectionRules#isLast}). */
  volatile boolean last;
  /**
   * Why the connection ends, once decided (its last request's reason, the peer's announcement,
   * its peer's close while idle); the first reason stands. Null before.
   */
  volatile dev.timewait.CloseEvent.Reason retireReason;
  volatile Endpoints endpoints;
  volatile boolean armed;
  /**
   * The exchange ends the connection but has no response body: the adapter, not HttpCore, closes
   * it once the exchange completed (see {@link AsyncExchangeRules#keepAlive}).
   */
  volatile boolean closeAfterExchange;
  /** The outermost session the decorator handed out for this connection (TLS if any). */
  volatile TimeWaitIOSession layer;
  /** HttpCore's TLS layer runs over this connection ... */
  volatile boolean tls;
  /** ... and has finished its handshake. */
  volatile boolean tlsEstablished;
  volatile boolean peerFinSeen;
  /**
   * The client is shutting down (HttpCore enqueued its shutdown command): whatever this
   * connection carries now did not end by agreement, so it resets instead of waiting for a FIN.
   */
  volatile boolean shuttingDown;
  volatile long finWaitDeadlineNanos;
  volatile FinWaitTimer.Deadline finWaitTimer;
  volatile long drained;
  /**
   * Pooled keep-alive: when the last request went out or the last response head came in, and
   * whether it was a response: the connection's idle time is measured from there. (Over TLS the
   * decrypted bytes reach HttpCore without passing the decorator's read, so exchanges, not bytes,
   * are what the adapter sees.)
   */
  volatile long lastDataNanos = System.nanoTime();
  volatile boolean lastDataWasRead;
  /** What waits for the FIN wait to end: the completion of the exchange that armed it. */
  final Queue<Runnable> afterClose = new ConcurrentLinkedQueue<>();

  /**
   * Asks the reactor for read events, and only those (what a FIN wait needs), unless that is
   * what the socket has: HttpCore's {@code setEventMask} wakes the selector (an eventfd write, an
   * extra epoll_wait and an eventfd read) even when called on the reactor thread itself. False if
   * the socket was closed meanwhile.
   */
  boolean readEventsOnly() {
    int mask;
    try {
      mask = raw.getEventMask();
    } catch (CancelledKeyException e) {
      // Closed past the decorator meanwhile (HttpClient's close(IMMEDIATE) as a cancel discards
      // the exchange's connection). HttpCore's getEventMask reads the key unchecked (its
      // setEventMask checks), and this exception thrown on the reactor thread inside the
      // reactor's own handler of that same exception (which closes the session through the
      // decorator) ends the client's I/O reactor: every later call fails with
      // IOReactorShutdownException (seen in the fault contract's early cancels, 3 in 45 runs).
      return false;
    }
    if (mask != SelectionKey.OP_READ) {
      raw.setEventMask(SelectionKey.OP_READ);
    }
    return true;
  }

  AsyncConnection(IOSession raw) {
    this.raw = raw;
  }

  /** Sets why the connection ends, unless a reason was set before. */
  void retire(dev.timewait.CloseEvent.Reason reason) {
    if (retireReason == null) {
      retireReason = reason;
    }
  }

  @Override
  public String toString() {
    Endpoints e = endpoints;
    return raw.getId() + (e == null ? "" : " " + e) + " " + state.get();
  }

  /** A connection's local and remote addresses, as the reactor reports them. */
  record Endpoints(SocketAddress local, SocketAddress remote) {
    @Override
    public String toString() {
      return local + " -> " + remote;
    }
  }
}
