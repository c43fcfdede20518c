package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.httpclient5.AsyncConnection.State;
import dev.timewait.spi.CloseOutcome;
import dev.timewait.spi.CloseReasons;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NetworkChannel;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the async client's connections close under one strategy: the FIN-wait state machine.
 *
 * <p>Every close that goes through the decorator (the HTTP/1.1 duplexer's no-argument {@code
 * close()}, the pool's GRACEFUL discards, idle eviction, {@code client.close()}) lands in {@link
 * #close}. Reset retirement turns it into {@code close(IMMEDIATE)}: SO_LINGER(0) and an RST. Server
 * close, for a connection whose exchange ended it by agreement (armed), keeps the socket open,
 * hands its read events to an {@link AsyncDrainHandler} that reads (and discards) until the
 * server's FIN, then closes the plain session gracefully: the client is the second to close and
 * keeps no TIME_WAIT. TLS is not closed with close_notify (the server has already closed; data
 * would draw an RST that robs it of its TIME_WAIT). The {@link FinWaitTimer} bounds the wait by
 * the strategy's finWait; on timeout the socket is reset and the timeout counted. None of this
 * blocks the reactor thread. An unarmed close resets. Each end is a {@link CloseOutcome},
 * recorded once per connection.
 *
 * <p>Thread-safe: each connection's state changes by compare-and-set; closes may come from any
 * thread, reads only from the reactor thread of the session.
 */
final class AsyncCloser {
  private static final Logger log = LoggerFactory.getLogger(AsyncCloser.class);

  private static final AtomicInteger FIN_WAITS = new AtomicInteger();
  /**
   * What a FIN wait's drain reads into and throws away, one per thread that drains (the reactor
   * threads, mostly): a buffer per FIN wait was 4 KiB of garbage per connection (session 24),
   * where all that usually comes is the FIN itself.
   */
  private static final ThreadLocal<ByteBuffer> DRAIN_BUFFER =
      ThreadLocal.withInitial(() -> ByteBuffer.allocate(4096));
  /** How long a FIN wait may go on once its client shuts down: 100 ms. */
  static final long SHUTDOWN_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final boolean serverClose;
  private final long finWaitNanos;
  private final CloseAccounting accounting;
  private final CloseStrategy.Kind kind;
  /** The pool's time to live, where it retires connections at their lifetime itself; -1: not. */
  private final long poolLifetimeNanos;

  /**
   * @param poolTimeToLive whether HttpClient's pool retires connections at the strategy's
   *     lifetime itself (its time to live, set where HTTP/2 is allowed)
   */
  AsyncCloser(CloseStrategy strategy, CloseAccounting accounting, boolean poolTimeToLive) {
    this.serverClose = strategy.retirement() == Retirement.SERVER_CLOSE;
    this.finWaitNanos = strategy.finWait().toNanos();
    this.accounting = accounting;
    this.kind = strategy.kind();
    this.poolLifetimeNanos = poolTimeToLive && strategy instanceof PooledKeepAlive
        ? ((PooledKeepAlive) strategy).maxLifetime().toNanos() : -1;
  }

  /** Whether connections retire by server close (server close, or pooled SERVER_CLOSE). */
  boolean closesByServer() {
    return serverClose;
  }

  /** A close through the decorator, from any thread. */
  void close(AsyncConnection connection, IOSession layer, CloseMode mode) {
    if (mode == CloseMode.GRACEFUL && Thread.currentThread() != connection.reactor
        && carriesExchange(connection)) {
      // The client's close(IMMEDIATE): HttpCore closes every session gracefully from the
      // caller's thread (AbstractSingleCoreIOReactor.close), racing the reactor's own shutdown
      // command, which then never reaches the sessions closed first. Nothing else closes a
      // connection gracefully off its reactor while an exchange is under way: an exchange ends
      // it on the reactor, a pool evicts only idle ones, a cancel or failure closes immediately.
      // Before, such an exchange's connection read STRATEGY or IDLE_EVICTION, or, armed for a
      // server close with its body still coming, waited out finWait and read FIN_WAIT_TIMEOUT.
      shutdown(connection, layer, mode);
      return;
    }
    // A socket closed past the decorator (HttpClient's close(IMMEDIATE) as it discards the
    // connection of an exchange that failed or was cancelled, from that thread) whose reactor then
    // closes it gracefully through the decorator: the exchange was cut, whatever the strategy (a
    // peer's FIN before any answer: HttpCore fails the exchange, HttpClient discards the
    // connection, then HttpCore's own graceful close comes; under reset it read STRATEGY). Under
    // server close there is no FIN to wait for: what happened was an RST, counted as one.
    boolean closedPast = !connection.raw.isOpen();
    if (!serverClose || mode == CloseMode.IMMEDIATE || closedPast || !connection.armed
        || connection.shuttingDown) {
      // A reset, decided before any state change: the connection never looks like it waits for
      // a FIN (whose drain handler would take the reactor's events meanwhile).
      if (connection.changeState(State.OPEN, State.CLOSED)) {
        if (poolLifetimeNanos >= 0 && mode == CloseMode.GRACEFUL && !closedPast
            && !connection.shuttingDown
            && System.nanoTime() - connection.openedNanos >= poolLifetimeNanos) {
          // Where HTTP/2 is allowed the pool's time to live retires connections at their lifetime
          // (no request may end an HTTP/2 connection, Pooling), discarding one as it is leased:
          // before, that read as an idle eviction.
          connection.retire(CloseEvent.Reason.LIFETIME);
        }
        // The pool discards an idle connection it evicts gracefully (PoolEntry.discardConnection
        // closes the session in the mode given); an exchange's failure or cancel, immediately.
        closeAndCount(connection, layer, (mode == CloseMode.IMMEDIATE || closedPast
            ? CloseReasons.EXCHANGE_CUT
            : connection.requests() > 0 ? CloseReasons.IDLE : 0) | peerFacts(connection));
      } else if (!serverClose) {
        layer.close(CloseMode.IMMEDIATE);
      }
      return;
    }
    if (!connection.changeState(State.OPEN, State.FIN_WAIT)) {
      return; // already waiting for the FIN, or closed
    }
    FIN_WAITS.incrementAndGet();
    if (connection.peerFinSeen) {
      finish(connection, CloseOutcome.AFTER_PEER_FIN);
      return;
    }
    // The server closes right after its response, and its FIN has usually arrived by the time
    // the client has processed that response: one read finds it now and spares the timer, the
    // change of interest and a wake-up of the reactor for the FIN alone (issue 19: the async
    // client's server close cost +1 epoll_wait per connection). A read of 0: not yet, wait below.
    drain(connection);
    if (connection.state() != State.FIN_WAIT) {
      return;
    }
    // Set once the state says FIN_WAIT: until then the readers (shutdown, the drain handler's
    // timeout) see 0, "the wait has just begun".
    connection.finWaitDeadlineNanos = System.nanoTime() + finWaitNanos;
    connection.finWaitTimer = FinWaitTimer.schedule(() -> deadline(connection), finWaitNanos);
    if (connection.state() != State.FIN_WAIT) {
      cancelTimer(connection); // finished meanwhile
      return;
    }
    // Read events now go to the drain handler (TimeWaitIOSession#getHandler); ask for them.
    if (!connection.readEventsOnly()) {
      finish(connection, CloseOutcome.FIN_WAIT_ABORTED); // closed past the decorator meanwhile
      return;
    }
    if (log.isDebugEnabled()) { // per server close: no boxed argument while debug is off
      log.debug("{}: waiting up to {} ms for the server's FIN", connection,
          TimeUnit.NANOSECONDS.toMillis(finWaitNanos));
    }
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
  void shutdown(AsyncConnection connection, IOSession layer, CloseMode mode) {
    connection.shuttingDown = true;
    if (connection.state() == State.FIN_WAIT) {
      long deadline = connection.finWaitDeadlineNanos;
      // 0: the wait began on another thread and has yet to set its deadline, a whole finWait
      // away (read as its past, it let that whole wait run instead of the grace).
      long left = deadline == 0 ? finWaitNanos : deadline - System.nanoTime();
      if (left > SHUTDOWN_GRACE_NANOS) {
        FinWaitTimer.schedule(() -> abortFinWait(connection, "client shut down"), SHUTDOWN_GRACE_NANOS);
      }
      return;
    }
    if (connection.changeState(State.OPEN, State.CLOSED)) {
      log.debug("{}: client shutting down ({}); reset", connection, mode);
      // Idle as the pool tracks it (its last exchange ended), else its exchange is cut.
      boolean idle = kind == CloseStrategy.Kind.POOLED && connection.idleSinceExchange()
          && connection.requests() > 0;
      closeAndCount(connection, layer, idle ? CloseReasons.IDLE : CloseReasons.EXCHANGE_CUT);
    }
  }

  /**
   * Whether an exchange is under way on {@code connection}: a request went out and, pooled, its
   * exchange has not ended (a connection of the other strategies carries one exchange).
   */
  private boolean carriesExchange(AsyncConnection connection) {
    return connection.requests() > 0
        && (kind != CloseStrategy.Kind.POOLED || !connection.idleSinceExchange());
  }

  /**
   * Ends {@code connection}'s FIN wait now, if it waits, with an RST counted as a FIN-wait abort:
   * the exchange's caller cancelled, or the client is closing. Any thread.
   */
  void abortFinWait(AsyncConnection connection, String why) {
    if (connection.state() == State.FIN_WAIT) {
      log.debug("{}: {}; FIN wait aborted", connection, why);
      finish(connection, CloseOutcome.FIN_WAIT_ABORTED);
    }
  }

  /**
   * Reads (and discards) what has arrived on {@code connection}'s plain socket, up to the server's
   * FIN, while it waits for that FIN; ends the wait at the FIN, at an RST, or past {@link
   * CloseOutcome#MAX_DRAIN_BYTES}. Returns at a read of 0 (nothing more yet). The reactor thread,
   * or the thread that began the wait (a channel read is safe beside the reactor's; the wait ends
   * once, by compare-and-set).
   */
  void drain(AsyncConnection connection) {
    ByteBuffer buffer = DRAIN_BUFFER.get();
    try {
      while (connection.state() == State.FIN_WAIT) {
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
    } catch (ClosedChannelException e) {
      // Closed past the decorator meanwhile (HttpClient's close(IMMEDIATE) as a cancel discards
      // the exchange's connection, an RST): cut short by the client, not reset by the peer.
      finish(connection, CloseOutcome.FIN_WAIT_ABORTED);
    } catch (IOException e) {
      finish(connection, CloseOutcome.PEER_RESET);
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
  private void closeAndCount(AsyncConnection connection, IOSession session, int facts) {
    Lock lock = session.getLock();
    lock.lock();
    try {
      boolean tlsClosedItself = tlsLayerClosedItself(connection);
      // An open socket: close(IMMEDIATE) sets SO_LINGER(0) and closes, an RST. A socket closed
      // before, past the decorator: by close(IMMEDIATE), or by the TLS layer (client FIN first).
      session.close(CloseMode.IMMEDIATE);
      if (tlsClosedItself) {
        log.debug("{}: the TLS layer had closed the socket itself, client FIN first", connection);
        count(connection, CloseOutcome.LOCAL_FIRST, facts);
      } else {
        count(connection, CloseOutcome.RESET, facts);
      }
    } finally {
      lock.unlock();
    }
  }

  /** The FIN wait's bound is up: one last look for the FIN, else reset. A FIN-wait timer runner. */
  private void deadline(AsyncConnection connection) {
    if (connection.state() != State.FIN_WAIT) {
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
    if (!connection.changeState(State.FIN_WAIT, State.CLOSED)) {
      return;
    }
    FIN_WAITS.decrementAndGet();
    cancelTimer(connection);
    try {
      count(connection, outcome, 0); // first: the close is counted before the peer can see it
    } finally {
      // Even if a close listener threw an Error the accounting passes on (a VirtualMachineError):
      // the socket closes and the completions held for the FIN wait run (before, the connection
      // stayed open, its port held, and the caller's future never completed).
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
  }

  /**
   * Runs {@code task} once {@code connection}'s FIN wait is over, or now (returning false) if it
   * is not waiting. HttpClient's async exchange completion discards a connection that is no longer
   * open with {@code close(IMMEDIATE)}, past the decorator, which would reset a connection that
   * still waits for the server's FIN; so the completion waits for the FIN wait instead.
   */
  boolean runAfterFinWait(AsyncConnection connection, Runnable task) {
    if (connection.state() != State.FIN_WAIT) {
      return false;
    }
    connection.afterClose.add(task);
    if (connection.state() != State.FIN_WAIT) {
      runAfterClose(connection); // ended meanwhile: make sure the task runs (once)
    }
    return true;
  }

  private static void runAfterClose(AsyncConnection connection) {
    Queue<Runnable> tasks = connection.afterClose;
    if (tasks == null) {
      return; // a strategy that never waits for the server's FIN
    }
    Runnable task;
    while ((task = tasks.poll()) != null) {
      try {
        task.run();
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Throwable e) {
        // Every held completion runs: one that throws (an AssertionError in a test's callback)
        // must not leave the others' callers waiting.
        log.warn("{}: completing an exchange after its FIN wait failed", connection, e);
      }
    }
  }

  /**
   * Records how {@code connection} closed, once, with what the adapter knows of it: destination,
   * strategy, requests, lifetime, FIN wait and why ({@link CloseReasons}, from {@code facts} the
   * close path saw and whether the client is shutting down).
   */
  private void count(AsyncConnection connection, CloseOutcome outcome, int facts) {
    if (!connection.opened() || !connection.markCounted()) {
      return;
    }
    AsyncConnection.Endpoints endpoints = connection.endpoints;
    InetSocketAddress remote = endpoints != null && endpoints.remote() instanceof InetSocketAddress
        ? (InetSocketAddress) endpoints.remote() : null;
    long deadline = connection.finWaitDeadlineNanos;
    // The client's close: its reactor enqueues the shutdown command on every session first,
    // before its pool closes anything (AbstractHttpAsyncClientBase.close, HttpClient 5.6).
    int seen = connection.shuttingDown ? facts | CloseReasons.SHUTTING_DOWN : facts;
    outcome.recordOn(accounting, CloseReasons.decide(kind, outcome, connection.retireReason, seen),
        remote, kind, connection.requests(), connection.openedNanos,
        deadline == 0 ? CloseOutcome.NO_TIME : deadline - finWaitNanos);
  }

  /** What the exchanges saw of the peer's close ({@link AsyncConnection#closedByPeerBeforeAnswer}). */
  private static int peerFacts(AsyncConnection connection) {
    return connection.closedByPeerBeforeAnswer ? CloseReasons.PEER_CLOSED_WHILE_IDLE : 0;
  }

  private static void cancelTimer(AsyncConnection connection) {
    FinWaitTimer.Deadline timer = connection.finWaitTimer;
    if (timer != null) {
      timer.cancel();
    }
  }

  /**
   * A TLS handshake failed or timed out on {@code connection}: reset it before HttpCore's TLS
   * layer closes it gracefully (plain FIN first). Reactor thread.
   */
  void resetFailedHandshake(AsyncConnection connection, String why) {
    TimeWaitIOSession layer = connection.layer;
    if (layer != null && layer.tls() && connection.changeState(State.OPEN, State.CLOSED)) {
      log.debug("{}: TLS handshake {}; resetting before the TLS layer closes gracefully", connection, why);
      closeAndCount(connection, layer.delegate(), CloseReasons.EXCHANGE_CUT);
    }
  }

  /**
   * The reactor closed {@code connection}'s session: end its FIN wait, complete what waited for
   * it, and count a close that went past the decorator. Reactor thread.
   */
  void disconnected(AsyncConnection connection) {
    State before = connection.getAndSetState(State.CLOSED);
    if (before == State.FIN_WAIT) {
      FIN_WAITS.decrementAndGet();
    }
    cancelTimer(connection);
    runAfterClose(connection);
    if (connection.opened() && !connection.counted()) {
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
      // An RST past the decorator is HttpClient discarding the connection of an exchange that
      // failed or was cancelled (discardEndpoint: close(IMMEDIATE)); an exchange's own end, a
      // pool's eviction and the client's shutdown all close through it. So the exchange was cut,
      // unless a pooled connection says it sat idle (before, a cancel mid-body under reset or
      // server close read STRATEGY, pooled UNKNOWN). A failed exchange's attempt ended it first,
      // which left the connection looking idle: it says it failed.
      boolean cut = outcome == CloseOutcome.RESET && (kind != CloseStrategy.Kind.POOLED
          || connection.exchangeFailed || !connection.idleSinceExchange());
      count(connection, outcome, (cut ? CloseReasons.EXCHANGE_CUT : 0) | peerFacts(connection));
    }
  }

  /**
   * {@code connection}'s socket closed past the decorator and the reactor has not reported it
   * (it never will: {@code AsyncConnections#closedUnreported}). Closes HttpCore's session of it and
   * counts the close: an RST (SO_LINGER(0) is set before the connect completes), its call's
   * exchange cut by the cancel. A connection waiting for the server's FIN is its timer's. Any
   * thread.
   */
  void closedUnreported(AsyncConnection connection) {
    if (connection.changeState(State.OPEN, State.CLOSED)) {
      log.debug("{}: its socket closed unreported (a cancel as it connected)", connection);
      closeAndCount(connection, connection.raw, CloseReasons.EXCHANGE_CUT);
    }
  }

  /** Whether HttpCore's TLS layer closed the socket by itself (it shuts its output down first). */
  private static boolean tlsLayerClosedItself(AsyncConnection connection) {
    TimeWaitIOSession layer = connection.layer;
    return layer != null && layer.tls() && layer.delegateStatus() == IOSession.Status.CLOSED;
  }

  /** Sets SO_LINGER on the connection's socket (0: close resets; -1: off); whether it took. */
  static boolean setLinger(AsyncConnection connection, int seconds) {
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
}
