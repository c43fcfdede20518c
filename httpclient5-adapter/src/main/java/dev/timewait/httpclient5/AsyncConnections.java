package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.httpclient5.AsyncConnection.Endpoints;
import dev.timewait.spi.ConnectionRules;
import dev.timewait.spi.Counting;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hc.core5.function.Decorator;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.reactor.IOSession;
import org.apache.hc.core5.reactor.IOSessionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The async client's connections under one strategy, as the registry that the reuse strategy,
 * request interceptor and exec handlers consult, fed by the I/O session decorator and listener
 * that {@link TimeWaitHttpClient5} installs. How connections close is {@link AsyncCloser}'s job;
 * what pooled connections learn of their peers' idle timeouts, {@link AsyncPeerIdle}'s.
 *
 * <p>Every socket gets SO_LINGER(0) as soon as the decorator sees it, before it connects: a close
 * that goes past the decorator ({@code close(IMMEDIATE)} on the data channel: error paths, reactor
 * shutdown; a cancelled connect) resets too, and the listener's {@code disconnected} counts it
 * (or, where HttpCore never reports it, the {@link #sweep}).
 * Only the FIN after the server's FIN turns the linger off again. What SO_LINGER(0) cannot stop is
 * a FIN from {@code shutdownOutput()}, which HttpCore's graceful close of the plain session sends
 * first. Past the decorator, only HttpCore's TLS layer closes that way: when its handshake fails
 * or times out (it sends an alert, then closes the plain session gracefully). The listener hears
 * of those failures first ({@code exception}, {@code timeout}) and resets the socket before the
 * TLS layer can; a TLS layer found to have closed the socket by itself all the same is counted as
 * closed locally first, never as a reset.
 *
 * <p>Thread-safe: the registry is concurrent.
 */
final class AsyncConnections implements Decorator<IOSession>, IOSessionListener {
  private static final Logger log = LoggerFactory.getLogger(AsyncConnections.class);
  /** How often, in decorated sessions, the registry forgets failed connects: 16 (a power of 2). */
  static final int SWEEP_EVERY = 16;

  private final ConnectionRules rules;
  private final CloseAccounting accounting;
  private final boolean pooled;
  private final AsyncCloser closer;
  private final AsyncPeerIdle peerIdle;
  private final Map<String, AsyncConnection> byId = new ConcurrentHashMap<>();
  private final Map<Endpoints, AsyncConnection> byEndpoints = new ConcurrentHashMap<>();
  /** Sessions decorated, for the sweep of failed connects; a race only moves a sweep. */
  private int decorated;

  AsyncConnections(CloseStrategy strategy, CloseAccounting accounting) {
    this(strategy, accounting, false);
  }

  /**
   * @param poolTimeToLive whether HttpClient's pool retires connections at the strategy's
   *     lifetime itself (its time to live: set where HTTP/2 is allowed, {@link Pooling})
   */
  AsyncConnections(CloseStrategy strategy, CloseAccounting accounting, boolean poolTimeToLive) {
    this.rules = ConnectionRules.of(strategy);
    this.accounting = accounting;
    this.pooled = rules.keepAlive();
    this.closer = new AsyncCloser(strategy, accounting, poolTimeToLive);
    this.peerIdle = new AsyncPeerIdle(pooled, accounting);
  }

  /** The strategy's connection rules. */
  ConnectionRules rules() {
    return rules;
  }

  /** Whether connections are pooled: their idle times are tracked, and learned from. */
  boolean pooled() {
    return pooled;
  }

  /** {@return how the connections close} */
  AsyncCloser closer() {
    return closer;
  }

  /** {@return what pooled connections learn of their peers' idle timeouts} */
  AsyncPeerIdle peerIdle() {
    return peerIdle;
  }

  /** The open connection of an exchange's endpoint details (HttpCore's, in its context), or null. */
  AsyncConnection find(EndpointDetails details) {
    return details == null ? null : find(details.getLocalAddress(), details.getRemoteAddress());
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
    AsyncConnection connection = new AsyncConnection(session, closer.closesByServer());
    AsyncConnection existing = byId.putIfAbsent(session.getId(), connection);
    if (existing != null) {
      if (existing.raw != session) {
        // The TLS layer over a plain session we already track: the TCP connection is up.
        opened(existing, session);
        existing.tls = true;
        return new TimeWaitIOSession(session, existing, this, true);
      }
      connection = existing; // the same plain session again
    }
    // From now on every close of this socket resets, unless its output was shut down first.
    AsyncCloser.setLinger(connection, 0);
    if ((++decorated & (SWEEP_EVERY - 1)) == 0) {
      sweep();
    }
    return new TimeWaitIOSession(session, connection, this, false);
  }

  /**
   * Sweeps the registry for sockets closed without the listener's hearing of it: forgets the
   * connects that failed (a connect that fails never closes its I/O session, so the listener never
   * hears of it; the registry holds at most {@value #SWEEP_EVERY} of them for long, and what
   * HttpCore's sessions of them hold), and counts the close of a connection the reactor reported
   * up whose socket then closed beneath HttpCore's session ({@link #closedUnreported}). A socket
   * closed through that session is left to the reactor's report. Runs every {@value
   * #SWEEP_EVERY} decorated sessions, reading the registry once (a small share per connect), and
   * after a cancel that reached a connect under way ({@link AsyncCancelExec}). Any thread: every
   * step is a compare-and-set, against the reactor's own reports too.
   */
  void sweep() {
    for (AsyncConnection connection : byId.values()) {
      if (connection.raw.channel().isOpen()) {
        continue;
      }
      if (!connection.opened()) {
        // Failed (or closed as the reactor connects it: its next look at the key fails, and it
        // closes the session through the decorator, which counts it).
        byId.remove(connection.raw.getId(), connection);
      } else if (connection.raw.getStatus() == IOSession.Status.ACTIVE
          && connection.state() == AsyncConnection.State.OPEN) {
        // Closed beneath HttpCore's session, which marks itself closed before it closes the
        // socket and then reports the close: this one it never will.
        closedUnreported(connection);
      }
    }
  }

  /** Connections tracked: open, connecting, or failed to connect and not yet swept; for tests. */
  int tracked() {
    return byId.size();
  }

  // ---- IOSessionListener

  /**
   * The connection of {@code session}: HttpCore hands the listener the decorated session (ours)
   * for every event but the TLS layer's start and the disconnect, which get HttpCore's own.
   */
  private AsyncConnection connectionOf(IOSession session) {
    return session instanceof TimeWaitIOSession
        ? ((TimeWaitIOSession) session).connection()
        : byId.get(session.getId());
  }

  @Override
  public void connected(IOSession session) {
    AsyncConnection connection = connectionOf(session);
    if (connection != null) {
      opened(connection, session);
      if (session instanceof TimeWaitIOSession && ((TimeWaitIOSession) session).tls()) {
        connection.tlsEstablished = true; // HttpCore reports the TLS session's start once handshaken
      }
    }
  }

  @Override
  public void startTls(IOSession session) {
    AsyncConnection connection = connectionOf(session);
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
    AsyncConnection connection = connectionOf(session);
    if (connection == null || !connection.tls || connection.tlsEstablished) {
      return;
    }
    closer.resetFailedHandshake(connection, why);
  }

  @Override
  public void disconnected(IOSession session) {
    AsyncConnection connection = byId.remove(session.getId());
    if (connection == null) {
      return;
    }
    forgetEndpoints(connection);
    closer.disconnected(connection);
  }

  /**
   * A connection whose socket closed past the decorator where the reactor never reports it. A
   * cancel that reaches HttpCore's connect cancels the session request, then closes its connect
   * channel (HttpCore 5.4: cancels the selection key, closes the channel; an RST, SO_LINGER(0)
   * being set). The reactor may complete the connect in between and report the session up; that
   * session is no one's (the request was cancelled). A close that lands while the reactor handles
   * the connect event fails its next look at the key, and the reactor closes the session through
   * the decorator; a close that lands after it (the cancelling thread preempted between the two
   * steps) is never noticed: the selector drops the cancelled key, and HttpCore neither closes the
   * session nor reports it disconnected. Measured: 1 round in 500 of the fault contract's 600
   * cancels racing connect, on a loaded machine, left such a connection counted open for ever
   * (HttpCore's session active, its socket closed, the kernel clean). Forgets the connection,
   * closes HttpCore's session (its bookkeeping) and counts the close ({@link
   * AsyncCloser#closedUnreported}).
   */
  private void closedUnreported(AsyncConnection connection) {
    byId.remove(connection.raw.getId(), connection);
    forgetEndpoints(connection);
    closer.closedUnreported(connection);
  }

  private void forgetEndpoints(AsyncConnection connection) {
    Endpoints endpoints = connection.endpoints;
    if (endpoints != null) {
      byEndpoints.remove(endpoints, connection);
    }
  }

  private void opened(AsyncConnection connection, IOSession session) {
    if (connection.markOpened()) {
      Endpoints endpoints = new Endpoints(session.getLocalAddress(), session.getRemoteAddress());
      connection.endpoints = endpoints;
      connection.openedNanos = System.nanoTime();
      if (ClassicRequestExecutor.overUnixDomainSocket(endpoints.remote(), null)) {
        // A Unix domain socket (HttpClient 5.6's RequestConfig.setUnixDomainSocket), left alone:
        // not in the registry (the connections to one socket file all have the same two
        // addresses), and not counted (no TCP connection; its close is neither a reset nor a FIN
        // of TCP's): marked counted, so that no close path counts it.
        connection.markCounted();
        return;
      }
      if (endpoints.local() != null && endpoints.remote() != null) {
        byEndpoints.put(endpoints, connection);
      }
      Counting.opened(accounting);
      log.debug("opened {}", connection);
    }
  }

  // ---- closing

}
