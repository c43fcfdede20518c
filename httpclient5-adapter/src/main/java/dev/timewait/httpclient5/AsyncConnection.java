package dev.timewait.httpclient5;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketAddress;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.hc.core5.reactor.IOSession;

/**
 * One TCP connection of the async client, as the adapter tracks it: its raw (plain) I/O session,
 * endpoints, request count, whether its exchange ended it by agreement ({@link #armed}), and how it
 * closed. Thread-safe: every field is volatile; transitions use compare-and-set.
 */
final class AsyncConnection {
  enum State {
    OPEN,
    /** Closed by the client, waiting for the server's FIN through the reactor. */
    FIN_WAIT,
    CLOSED
  }

  // Volatile fields changed through VarHandles rather than atomic objects: the reset strategy
  // makes one connection per request, and its atomics and queue (by their object sizes, about
  // 120 of the 910 bytes the adapter added per connection, session 24) were garbage per request.
  private static final VarHandle STATE;
  private static final VarHandle OPENED;
  private static final VarHandle COUNTED;
  private static final VarHandle REQUESTS;
  private static final VarHandle RETIRE_REASON;
  private static final VarHandle EXCHANGES;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      STATE = lookup.findVarHandle(AsyncConnection.class, "state", State.class);
      OPENED = lookup.findVarHandle(AsyncConnection.class, "opened", boolean.class);
      COUNTED = lookup.findVarHandle(AsyncConnection.class, "counted", boolean.class);
      REQUESTS = lookup.findVarHandle(AsyncConnection.class, "requests", long.class);
      EXCHANGES = lookup.findVarHandle(AsyncConnection.class, "exchanges", int.class);
      RETIRE_REASON = lookup.findVarHandle(
          AsyncConnection.class, "retireReason", dev.timewait.CloseEvent.Reason.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The reactor's own session for the socket: plain, beneath any TLS. */
  final IOSession raw;
  /**
   * The reactor thread that runs the connection's I/O: HttpCore decorates a new session on it
   * (SingleCoreIOReactor.processConnectionRequest), where the connection is made.
   */
  final Thread reactor = Thread.currentThread();
  private volatile State state = State.OPEN;
  private volatile boolean opened;
  private volatile boolean counted;
  private volatile long requests;
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
   * Pooled keep-alive: when the last request went out or the last exchange ended, and whether the
   * connection has sat idle since (no exchange under way): its idle time is measured from there.
   * (Over TLS the decrypted bytes reach HttpCore without passing the decorator's read, so
   * exchanges, not bytes, are what the adapter sees.) Only an idle connection's end of stream is
   * the peer's idle timeout: a stream that pauses and is then cut is not.
   */
  volatile long lastDataNanos = System.nanoTime();
  volatile boolean lastDataWasRead;
  /** Exchanges under way (HTTP/2 runs several at once): begun, and not yet completed or failed. */
  private volatile int exchanges;
  /**
   * Pooled keep-alive: an exchange on the connection failed (or was cancelled). HttpClient then
   * discards the connection past the decorator, after the attempt ended it (idle by then).
   */
  volatile boolean exchangeFailed;
  /** The peer's end of stream was read (any layer). */
  volatile boolean peerEnded;
  /**
   * Pooled keep-alive: an exchange failed unanswered after the peer's end of stream on a reused
   * connection (the peer closed it as the request reached it, or before): the peer's close of a
   * connection the client found idle, as core's sockets count it ({@code
   * CloseReasons.PEER_CLOSED_WHILE_IDLE}).
   */
  volatile boolean closedByPeerBeforeAnswer;
  /**
   * What waits for the FIN wait to end: the completion of the exchange that armed it. Null where
   * no FIN wait can begin (the strategy never closes by the server).
   */
  final Queue<Runnable> afterClose;

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

  /**
   * @param raw the reactor's plain session for the socket
   * @param finWaits whether the connection may wait for the server's FIN (its strategy closes by
   *     the server)
   */
  AsyncConnection(IOSession raw, boolean finWaits) {
    this.raw = raw;
    this.afterClose = finWaits ? new ConcurrentLinkedQueue<>() : null;
  }

  /** {@return the connection's state} */
  State state() {
    return state;
  }

  /** Sets the state to {@code update} if it is {@code expected}; whether it was. */
  boolean changeState(State expected, State update) {
    return STATE.compareAndSet(this, expected, update);
  }

  /** Sets the state to {@code update} and returns the state before. */
  State getAndSetState(State update) {
    return (State) STATE.getAndSet(this, update);
  }

  /** {@return whether the TCP connection was seen up} */
  boolean opened() {
    return opened;
  }

  /** Marks the TCP connection seen up; whether this call did (the first one). */
  boolean markOpened() {
    return OPENED.compareAndSet(this, false, true);
  }

  /** {@return whether the connection's close was counted} */
  boolean counted() {
    return counted;
  }

  /** Marks the connection's close counted; whether this call did (the first one). */
  boolean markCounted() {
    return COUNTED.compareAndSet(this, false, true);
  }

  /** {@return the requests the connection carried so far} */
  long requests() {
    return requests;
  }

  /** Counts a request going out on the connection and returns the requests, this one included. */
  long nextRequest() {
    return (long) REQUESTS.getAndAdd(this, 1L) + 1;
  }

  /** Pooled keep-alive: an exchange's request goes out on the connection. */
  void exchangeBegan() {
    EXCHANGES.getAndAdd(this, 1);
    markBusy();
  }

  /** Pooled keep-alive: a request goes out within an exchange already counted. */
  void markBusy() {
    lastDataNanos = System.nanoTime();
    lastDataWasRead = false;
  }

  /** Pooled keep-alive: whether no exchange is under way and the last one ended (idle since). */
  boolean idleSinceExchange() {
    return lastDataWasRead && exchanges <= 0;
  }

  /**
   * Pooled keep-alive: an exchange begun on the connection completed or failed; with none left
   * under way, the connection is idle from now.
   */
  void exchangeEnded() {
    if ((int) EXCHANGES.getAndAdd(this, -1) == 1) {
      lastDataNanos = System.nanoTime();
      lastDataWasRead = true;
    }
  }

  /** Sets why the connection ends, unless a reason was set before. */
  void retire(dev.timewait.CloseEvent.Reason reason) {
    // A compare-and-set: the reactor thread and a caller's thread may both give a reason.
    RETIRE_REASON.compareAndSet(this, (dev.timewait.CloseEvent.Reason) null, reason);
  }

  @Override
  public String toString() {
    Endpoints e = endpoints;
    return raw.getId() + (e == null ? "" : " " + e) + " " + state;
  }

  /** A connection's local and remote addresses, as the reactor reports them. */
  record Endpoints(SocketAddress local, SocketAddress remote) {
    @Override
    public String toString() {
      return local + " -> " + remote;
    }
  }
}
