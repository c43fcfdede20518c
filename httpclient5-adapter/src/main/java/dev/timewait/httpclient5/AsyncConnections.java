package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PeerIdleTimeouts;
import dev.timewait.Retirement;
import dev.timewait.spi.CloseOutcome;
import dev.timewait.spi.ConnectionRules;
import dev.timewait.httpclient5.AsyncConnection.Endpoints;
import dev.timewait.httpclient5.AsyncConnection.State;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectionKey;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import org.apache.hc.core5.function.Decorator;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOEventHandler;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.reactor.IOSessionListener;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The async client's connections under one strategy: the I/O session decorator and listener that
 * {@link TimeWaitHttpClient5} installs, the registry that the reuse strategy and request
 * interceptor consult, the strategy's close, and the close accounting.
 *
 * <p>How a close goes: every close that goes through the decorator (the HTTP/1.1 duplexer's
 * no-argument {@code close()}, the pool's GRACEFUL discards, idle eviction, {@code client.close()})
 * lands in {@link #close}. Reset retirement turns it into {@code close(IMMEDIATE)}: SO_LINGER(0)
 * and an RST. Server close, for a connection whose exchange ended it by agreement (armed), keeps
 * the socket open, hands its read events to a drain handler that reads (and discards) until the
 * server's FIN, then closes the plain session gracefully: the client is the second to close and
 * keeps no TIME_WAIT. TLS is not closed with close_notify (the server has already closed; data
 * would draw an RST that robs it of its TIME_WAIT). A timer bounds the wait by the strategy's
 * finWait; on timeout the socket is reset and the timeout counted. None of this blocks the
 * reactor thread. An unarmed close resets.
 *
 * <p>Every socket gets SO_LINGER(0) as soon as the decorator sees it, before it connects: a close
 * that goes past the decorator ({@code close(IMMEDIATE)} on the data channel: error paths, reactor
 * shutdown; a cancelled connect) resets too, and the listener's {@code disconnected} counts it.
 * Only the FIN after the server's FIN turns the linger off again. What SO_LINGER(0) cannot stop is
 * a FIN from {@code shutdownOutput()}, which HttpCore's graceful close of the plain session sends
 * first. Past the decorator, only HttpCore's TLS layer closes that way: when its handshake fails
 * or times out (it sends an alert, then closes the plain session gracefully). The listener hears
 * of those failures first ({@code exception}, {@code timeout}) and resets the socket before the
 * TLS layer can; a TLS layer found to have closed the socket by itself all the same is counted as
 * closed locally first, never as a reset.
 *
 * <p>Thread-safe: the registry is concurrent; each connection's state changes by compare-and-set;
 * closes may come from any thread, reads only from the reactor thread of the session.
 */
final class AsyncConnections implements Decorator<IOSession>, IOSessionListener {
  private static final Logger log = LoggerFactory.getLogger(AsyncConnections.class);

  private static final AtomicInteger FIN_WAITS = new AtomicInteger();
  /** How long a FIN wait may go on once its client shuts down: 100 ms. */
  static final long SHUTDOWN_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final ConnectionRules rules;
  private final boolean serverClose;
  private final long finWaitNanos;
  private final CloseAccounting accounting;
  private final boolean pooled;
  private final Map<String, AsyncConnection> byId = new ConcurrentHashMap<>();
  private final Map<Endpoints, AsyncConnection> byEndpoints = new ConcurrentHashMap<>();
  private final Queue<AsyncConnection> connecting = new ConcurrentLinkedQueue<>();

  AsyncConnections(CloseStrategy strategy, CloseAccounting accounting) {
    this.rules = ConnectionRules.of(strategy);
    this.serverClose = strategy.retirement() == Retirement.SERVER_CLOSE;
    this.finWaitNanos = strategy.finWait().toNanos();
    this.accounting = accounting;
    this.pooled = rules.keepAlive();
  }

  /** The strategy's connection rules. */
  ConnectionRules rules() {
    return rules;
  }

  /** Whether connections are pooled: their idle times are tracked, and learned from. */
  boolean pooled() {
    return pooled;
  }

  /**
   * The peer's end of stream arrived on {@code connection} (any layer). If the connection sat idle
   * in the pool after a response, that is the peer's idle timeout, seen by the reactor as it came:
   * learned ({@link PeerIdleTimeouts}) and counted as closed idle by the peer.
   */
  void endOfStream(AsyncConnection connection) {
    if (!pooled || !connection.lastDataWasRead || connection.armed || connection.requests.get() == 0
        || connection.state.get() != State.OPEN) {
      return;
    }
    long idle = System.nanoTime() - connection.lastDataNanos;
    InetSocketAddress remote = remoteOf(connection);
    if (remote == null || idle < PeerIdleTimeouts.MIN_LEARNED.toNanos()) {
      return; // the server ending the exchange, not an idle timeout
    }
    connection.lastDataWasRead = false; // once per connection: TLS reports its end, then TCP's
    accounting.peerIdleTimeouts().observeClosedAfterIdle(remote, idle);
    accounting.recordClosedIdleByPeer();
  }

  /**
   * Whether HttpClient's stale check of pooled {@code connection} (after it sat idle {@code
   * validateAfterInactivity}) should find it stale: idle past what was learned of its peer's idle
   * timeout, it retires before the peer closes it, instead of racing that close.
   */
  boolean retireOnStaleCheck(AsyncConnection connection) {
    if (!pooled) {
      return false;
    }
    long retireAfter = accounting.peerIdleTimeouts().retireAfterIdleNanos(remoteOf(connection));
    return retireAfter >= 0 && System.nanoTime() - connection.lastDataNanos >= retireAfter;
  }

  private static InetSocketAddress remoteOf(AsyncConnection connection) {
    Endpoints endpoints = connection.endpoints;
    return endpoints != null && endpoints.remote() instanceof InetSocketAddress
        ? (InetSocketAddress) endpoints.remote() : null;
  }

  /** Whether connections retire by server close (server close, or pooled SERVER_CLOSE). */
  boolean closesByServer() {
    return serverClose;
  }

  /** The open connection between these endpoints, or null. */
  AsyncConnection find(SocketAddress local, SocketAddress remote) {
    if (local == null || remote == null) {
      return null;
    }
    return byEndpoints.get(new Endpoints(local, remote));
  }

  // ---- Decorator

  @Override
  public IOSession decorate(IOSession session) {
    AsyncConnection existing = byId.get(session.getId());
    if (existing != null && existing.raw != session) {
      // The TLS layer over a plain session we already track: the TCP connection is up.
      opened(existing, session);
      existing.tls = true;
      return new TimeWaitIOSession(session, existing, this, true);
    }
    AsyncConnection connection = byId.computeIfAbsent(session.getId(), id -> new AsyncConnection(session));
    // From now on every close of this socket resets, unless its output was shut down first.
    setLinger(connection, 0);
    connecting.add(connection);
    forgetFailedConnects();
    return new TimeWaitIOSession(session, connection, this, false);
  }

  /**
   * A connect that fails never closes its I/O session, so the listener never hears of it: drop
   * connections at the head of the connecting queue whose socket closed before they opened.
   */
  private void forgetFailedConnects() {
    for (int i = 0; i < 16; i++) {
      AsyncConnection head = connecting.peek();
      if (head == null) {
        return;
      }
      if (head.opened.get()) {
        connecting.remove(head);
      } else if (!head.raw.channel().isOpen()) {
        connecting.remove(head);
        byId.remove(head.raw.getId(), head);
      } else {
        return; // still connecting
      }
    }
  }

  // ---- IOSessionListener

  @Override
  public void connected(IOSession session) {
    AsyncConnection connection = byId.get(session.getId());
    if (connection != null) {
      opened(connection, session);
      if (session instanceof TimeWaitIOSession && ((TimeWaitIOSession) session).tls()) {
        connection.tlsEstablished = true; // HttpCore reports the TLS session's start once handshaken
      }
    }
  }

  @Override
  public void startTls(IOSession session) {
    AsyncConnection connection = byId.get(session.getId());
    if (connection != null) {
      opened(connection, session);
    }
  }

  @Override
  public void inputReady(IOSession session) {}

  @Override
  public void outputReady(IOSession session) {}

  /**
   * Called before the session's handler hears of the timeout. A TLS handshake that times out is
   * closed by HttpCore's TLS layer itself, gracefully (plain FIN first): reset the socket first.
   */
  @Override
  public void timeout(IOSession session) {
    resetBeforeTlsLayerCloses(session, "timed out");
  }

  /**
   * Called before the session's handler hears of the exception. A TLS handshake that fails is
   * closed by HttpCore's TLS layer itself, gracefully (plain FIN first): reset the socket first.
   */
  @Override
  public void exception(IOSession session, Exception cause) {
    resetBeforeTlsLayerCloses(session, cause.getClass().getSimpleName());
  }

  private void resetBeforeTlsLayerCloses(IOSession session, String why) {
    AsyncConnection connection = byId.get(session.getId());
    if (connection == null || !connection.tls || connection.tlsEstablished) {
      return;
    }
    TimeWaitIOSession layer = connection.layer;
    if (layer != null && layer.tls() && connection.state.compareAndSet(State.OPEN, State.CLOSED)) {
      log.debug("{}: TLS handshake {}; resetting before the TLS layer closes gracefully", connection, why);
      closeAndCount(connection, layer.delegate());
    }
  }

  @Override
  public void disconnected(IOSession session) {
    AsyncConnection connection = byId.remove(session.getId());
    if (connection == null) {
      return;
    }
    Endpoints endpoints = connection.endpoints;
    if (endpoints != null) {
      byEndpoints.remove(endpoints, connection);
    }
    State before = connection.state.getAndSet(State.CLOSED);
    if (before == State.FIN_WAIT) {
      FIN_WAITS.decrementAndGet();
    }
    cancelTimer(connection);
    runAfterClose(connection);
    if (connection.opened.get() && !connection.counted.get()) {
      // Closed past the decorator: by HttpClient's close(IMMEDIATE) (SO_LINGER(0), an RST), by a
      // plain close of a socket that has SO_LINGER(0) since the decorator saw it (an RST), or by
      // HttpCore's TLS layer on its own (close_notify, then shutdownOutput: the client's FIN).
      CloseOutcome outcome;
      if (before == State.FIN_WAIT) {
        log.debug("{}: FIN wait cut short by an immediate close", connection);
        outcome = CloseOutcome.FIN_WAIT_ABORTED;
      } else {
        outcome = tlsLayerClosedItself(connection) ? CloseOutcome.LOCAL_FIRST : CloseOutcome.RESET;
      }
      if (outcome == CloseOutcome.LOCAL_FIRST) {
        log.debug("{}: closed past the decorator with the client's FIN first", connection);
      }
      count(connection, outcome);
    }
  }

  /** Whether HttpCore's TLS layer closed the socket by itself (it shuts its output down first). */
  private static boolean tlsLayerClosedItself(AsyncConnection connection) {
    TimeWaitIOSession layer = connection.layer;
    return layer != null && layer.tls() && layer.delegateStatus() == IOSession.Status.CLOSED;
  }

  /** Sets SO_LINGER on the connection's socket (0: close resets; -1: off); whether it took. */
  private static boolean setLinger(AsyncConnection connection, int seconds) {
    ByteChannel channel = connection.raw.channel();
    if (channel instanceof NetworkChannel) {
      try {
        ((NetworkChannel) channel).setOption(StandardSocketOptions.SO_LINGER, seconds);
        return true;
      } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
        log.debug("{}: cannot set SO_LINGER({}): {}", connection, seconds, e.toString());
      }
    }
    return false;
  }

  private void opened(AsyncConnection connection, IOSession session) {
    if (connection.opened.compareAndSet(false, true)) {
      Endpoints endpoints = new Endpoints(session.getLocalAddress(), session.getRemoteAddress());
      connection.endpoints = endpoints;
      connection.openedNanos = System.nanoTime();
      if (endpoints.local() != null && endpoints.remote() != null) {
        byEndpoints.put(endpoints, connection);
      }
      accounting.recordOpened();
      log.debug("opened {}", connection);
    }
  }

  // ---- closing

  /** A close through the decorator, from any thread. */
  void close(AsyncConnection connection, IOSession layer, CloseMode mode) {
    if (!serverClose || mode == CloseMode.IMMEDIATE || !connection.armed || connection.shuttingDown) {
      // A reset, decided before any state change: the connection never looks like it waits for
      // a FIN (whose drain handler would take the reactor's events meanwhile).
      if (connection.state.compareAndSet(State.OPEN, State.CLOSED)) {
        closeAndCount(connection, layer);
      } else if (!serverClose) {
        layer.close(CloseMode.IMMEDIATE);
      }
      return;
    }
    if (!connection.state.compareAndSet(State.OPEN, State.FIN_WAIT)) {
      return; // already waiting for the FIN, or closed
    }
    FIN_WAITS.incrementAndGet();
    if (connection.peerFinSeen) {
      finish(connection, CloseOutcome.AFTER_PEER_FIN);
      return;
    }
    connection.finWaitDeadlineNanos = System.nanoTime() + finWaitNanos;
    connection.finWaitTimer = FinWaitTimer.schedule(() -> deadline(connection), finWaitNanos);
    if (connection.state.get() != State.FIN_WAIT) {
      cancelTimer(connection); // finished meanwhile
      return;
    }
    // Read events now go to the drain handler (TimeWaitIOSession#getHandler); ask for them.
    connection.raw.setEventMask(SelectionKey.OP_READ);
    log.debug("{}: waiting up to {} ms for the server's FIN", connection,
        TimeUnit.NANOSECONDS.toMillis(finWaitNanos));
  }

  /**
   * The client is shutting down: HttpCore enqueues a shutdown command on every session, and a
   * graceful one waits for exchanges under way, for ever where a response body stalls (measured:
   * calls still pending until the peer's 30 s bound ended them). A connection still carrying an
   * exchange (or idle) resets now, so that its caller fails at once and nothing incomplete is ever
   * armed. A connection waiting for the server's FIN gets {@link #SHUTDOWN_GRACE_NANOS} more for
   * it (a responsive server's FIN is there within microseconds), then resets, counted as a
   * FIN-wait abort; the reactor's own shutdown may close the socket sooner, which counts the same.
   * Any thread.
   */
  void shutdown(AsyncConnection connection, IOSession layer) {
    connection.shuttingDown = true;
    if (connection.state.get() == State.FIN_WAIT) {
      long left = connection.finWaitDeadlineNanos - System.nanoTime();
      if (left > SHUTDOWN_GRACE_NANOS) {
        FinWaitTimer.schedule(() -> abortFinWait(connection, "client shut down"), SHUTDOWN_GRACE_NANOS);
      }
      return;
    }
    if (connection.state.compareAndSet(State.OPEN, State.CLOSED)) {
      log.debug("{}: client shutting down; reset", connection);
      closeAndCount(connection, layer);
    }
  }

  /**
   * Ends {@code connection}'s FIN wait now, if it waits, with an RST counted as a FIN-wait abort:
   * the exchange's caller cancelled, or the client is closing. Any thread.
   */
  void abortFinWait(AsyncConnection connection, String why) {
    if (connection.state.get() == State.FIN_WAIT) {
      log.debug("{}: {}; FIN wait aborted", connection, why);
      finish(connection, CloseOutcome.FIN_WAIT_ABORTED);
    }
  }

  /** FIN waits under way in every async client of this JVM; for tests. */
  static int finWaitsUnderWay() {
    return FIN_WAITS.get();
  }

  /**
   * Resets {@code session} (a layer of {@code connection}) and counts how the socket really
   * closed. Under the session's lock, which HttpCore's TLS layer holds while it closes the plain
   * session by itself: either the socket is still open and this close resets it, or the TLS
   * layer has already closed it, with the client's FIN first.
   */
  private void closeAndCount(AsyncConnection connection, IOSession session) {
    Lock lock = session.getLock();
    lock.lock();
    try {
      boolean tlsClosedItself = tlsLayerClosedItself(connection);
      // An open socket: close(IMMEDIATE) sets SO_LINGER(0) and closes, an RST. A socket closed
      // before, past the decorator: by close(IMMEDIATE), or by the TLS layer (client FIN first).
      session.close(CloseMode.IMMEDIATE);
      if (tlsClosedItself) {
        log.debug("{}: the TLS layer had closed the socket itself, client FIN first", connection);
        count(connection, CloseOutcome.LOCAL_FIRST);
      } else {
        count(connection, CloseOutcome.RESET);
      }
    } finally {
      lock.unlock();
    }
  }

  /** The FIN wait's bound is up: one last look for the FIN, else reset. Timer thread. */
  private void deadline(AsyncConnection connection) {
    if (connection.state.get() != State.FIN_WAIT) {
      return;
    }
    try {
      if (connection.raw.read(ByteBuffer.allocate(CloseOutcome.MAX_DRAIN_BYTES)) < 0) {
        finish(connection, CloseOutcome.AFTER_PEER_FIN); // arrived, but the reactor did not tell us
        return;
      }
    } catch (IOException | RuntimeException e) {
      // closed or reset meanwhile: the timeout below finds the state changed or resets
    }
    finish(connection, CloseOutcome.FIN_WAIT_TIMEOUT);
  }

  /** Ends a FIN wait once: closes the plain session and counts how. Any thread. */
  void finish(AsyncConnection connection, CloseOutcome outcome) {
    if (!connection.state.compareAndSet(State.FIN_WAIT, State.CLOSED)) {
      return;
    }
    FIN_WAITS.decrementAndGet();
    cancelTimer(connection);
    count(connection, outcome);
    if (outcome == CloseOutcome.AFTER_PEER_FIN) {
      // Plain FIN after the server's: the server keeps the TIME_WAIT. No TLS close_notify. The
      // only close that must not reset: SO_LINGER off first.
      setLinger(connection, -1);
      connection.raw.close(CloseMode.GRACEFUL);
    } else {
      connection.raw.close(CloseMode.IMMEDIATE);
    }
    if (log.isDebugEnabled()) {
      log.debug("{}: closed, {}", connection, outcome);
    }
    runAfterClose(connection);
  }

  /**
   * Runs {@code task} once {@code connection}'s FIN wait is over, or now (returning false) if it
   * is not waiting. HttpClient's async exchange completion discards a connection that is no longer
   * open with {@code close(IMMEDIATE)}, past the decorator, which would reset a connection that
   * still waits for the server's FIN; so the completion waits for the FIN wait instead.
   */
  boolean runAfterFinWait(AsyncConnection connection, Runnable task) {
    if (connection.state.get() != State.FIN_WAIT) {
      return false;
    }
    connection.afterClose.add(task);
    if (connection.state.get() != State.FIN_WAIT) {
      runAfterClose(connection); // ended meanwhile: make sure the task runs (once)
    }
    return true;
  }

  private static void runAfterClose(AsyncConnection connection) {
    Runnable task;
    while ((task = connection.afterClose.poll()) != null) {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.warn("{}: completing an exchange after its FIN wait failed", connection, e);
      }
    }
  }

  private void count(AsyncConnection connection, CloseOutcome outcome) {
    if (!connection.opened.get() || !connection.counted.compareAndSet(false, true)) {
      return;
    }
    outcome.recordOn(accounting);
  }

  private static void cancelTimer(AsyncConnection connection) {
    Future<?> timer = connection.finWaitTimer;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  /** The event handler of a connection in FIN wait: reads the plain socket to its end. */
  IOEventHandler drainHandler(AsyncConnection connection) {
    return new IOEventHandler() {
      @Override
      public void connected(IOSession session) {}

      @Override
      public void inputReady(IOSession session, ByteBuffer src) {
        drain(connection);
      }

      @Override
      public void outputReady(IOSession session) {
        // Nothing to write; the TLS layer may have asked for a write (its close_notify) and
        // dropped read interest after our close: read, and only read, from now on.
        connection.raw.setEventMask(SelectionKey.OP_READ);
      }

      @Override
      public void timeout(IOSession session, Timeout timeout) {
        if (System.nanoTime() - connection.finWaitDeadlineNanos >= 0) {
          finish(connection, CloseOutcome.FIN_WAIT_TIMEOUT);
        }
      }

      @Override
      public void exception(IOSession session, Exception cause) {
        finish(connection, CloseOutcome.PEER_RESET);
      }

      @Override
      public void disconnected(IOSession session) {}
    };
  }

  private void drain(AsyncConnection connection) {
    ByteBuffer buffer = ByteBuffer.allocate(4096);
    try {
      while (connection.state.get() == State.FIN_WAIT) {
        buffer.clear();
        int n = connection.raw.read(buffer);
        if (n < 0) {
          finish(connection, CloseOutcome.AFTER_PEER_FIN);
          return;
        }
        if (n == 0) {
          return;
        }
        connection.drained += n;
        if (connection.drained > CloseOutcome.MAX_DRAIN_BYTES) {
          finish(connection, CloseOutcome.UNREAD_DATA);
          return;
        }
      }
    } catch (IOException e) {
      finish(connection, CloseOutcome.PEER_RESET);
    }
  }

  /** One daemon thread for every client's FIN-wait deadlines; its tasks only close sockets. */
  private static final class FinWaitTimer {
    private static final ScheduledThreadPoolExecutor TIMER = create();

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "timewait-httpclient5-finwait");
        t.setDaemon(true);
        return t;
      });
      timer.setRemoveOnCancelPolicy(true);
      return timer;
    }

    static Future<?> schedule(Runnable task, long delayNanos) {
      return TIMER.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    }
  }
}
