package dev.timewait.okhttp;

import dev.timewait.spi.SocketControl;
import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.spi.ResponseMark;
import dev.timewait.Retirement;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.spi.ConnectionRules;
import dev.timewait.spi.KeepAliveAnnouncement;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.Proxy;
import java.net.Socket;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import kotlin.jvm.JvmClassMappingKt;
import kotlin.jvm.functions.Function0;
import kotlin.reflect.KClass;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.Interceptor;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network interceptor of a timewait configuration. It sees each exchange with the connection
 * that carries it, and
 *
 * <ul>
 *   <li>sets {@code Connection: close} on the request that {@link ConnectionRules#isLast} says
 *       ends its connection (its age counted per {@link Connection}, from the first request this
 *       interceptor saw on it: OkHttp does not tell when it connected);
 *   <li>for server close over HTTP/1.x, tracks the exchange with a {@link ServerCloseTracker} so
 *       that the connection is armed exactly when its response has been read to the end;
 *   <li>fails a call routed through a SOCKS proxy, which bypasses the socket factory.
 * </ul>
 *
 * <p>Thread-safe: one instance serves every call of a client.
 */
final class CloseInterceptor implements Interceptor {
  private static final Logger log = LoggerFactory.getLogger(CloseInterceptor.class);
  /** The tag key, made once (OkHttp's {@code tag(Class, ...)} makes a {@code KClass} per call). */
  private static final KClass<ServerCloseTracker> SERVER_CLOSE_TRACKER =
      JvmClassMappingKt.getKotlinClass(ServerCloseTracker.class);

  private final CloseStrategy strategy;
  /** Makes a call's tracker; one instance, not a capturing lambda per call. */
  private final Function0<ServerCloseTracker> newTracker;
  private final TimeWaitSocketFactory factory;
  private final ConnectionRules rules;
  private final boolean closeEveryRequest;
  private final boolean serverClose;
  /** Pooled keep-alive with {@link PooledKeepAlive#retryUnanswered()}. */
  private final boolean retryUnanswered;
  /** Requests seen per connection; weak keys, so closed connections drop out. */
  private final Map<Connection, ConnectionUse> uses =
      Collections.synchronizedMap(new WeakHashMap<>());
  private final AtomicBoolean warnedCloseRemoved = new AtomicBoolean();

  CloseInterceptor(CloseStrategy strategy, TimeWaitSocketFactory factory) {
    this.strategy = strategy;
    this.factory = factory;
    this.newTracker = () -> new ServerCloseTracker(factory);
    this.rules = ConnectionRules.of(strategy);
    this.closeEveryRequest = !rules.keepAlive();
    this.serverClose = strategy.retirement() == Retirement.SERVER_CLOSE;
    this.retryUnanswered =
        strategy instanceof PooledKeepAlive && ((PooledKeepAlive) strategy).retryUnanswered();
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Connection connection = chain.connection();
    Request request = chain.request();
    if (connection == null) {
      return chain.proceed(request); // not a network exchange (never the case for OkHttp 5)
    }
    Proxy proxy = connection.route().proxy();
    if (proxy.type() == Proxy.Type.SOCKS) {
      // OkHttp closes the connection it cannot use after this: a plain close, a FIN, and client
      // TIME_WAIT towards the proxy on every call. SO_LINGER(0) first makes that close an RST (the
      // exchange never began: nothing is lost).
      try {
        connection.socket().setSoLinger(true, 0);
      } catch (IOException | RuntimeException e) {
        // closed already: nothing to reset
      }
      // A ProtocolException, so that OkHttp does not retry the route forever.
      throw new ProtocolException(
          "timewait cannot close connections through the SOCKS proxy " + proxy
              + ": OkHttp opens them without the socket factory; use an HTTP proxy or no proxy");
    }
    int count = 1;
    boolean last = true;
    Socket socket = connection.socket();
    ConnectionUse use = null;
    if (closeEveryRequest) {
      SocketControl.noteRequest(factory, socket, 1); // for the close record
    } else {
      use = useOf(connection); // one synchronized lookup per request
      count = use.next();
      // Notes the request on the socket (for the close record), allocation-free once seen.
      SocketControl.noteRequest(factory, socket, count);
      CloseEvent.Reason lastReason = rules.lastReason(count, System.nanoTime() - use.bornNanos);
      last = lastReason != null;
      if (last) {
        SocketControl.retire(factory, socket, lastReason); // once per connection
      }
    }
    // Every last request carries Connection: close (ConnectionRules.mustAskServerToClose), which is
    // also the only way to keep OkHttp from pooling the connection again; under reset retirement
    // the socket then closes with a reset.
    // Not an upgrade (Connection: Upgrade, which OkHttp 5.2+ hands back as response.socket()):
    // with close instead the server refuses it, and OkHttp no longer sees an upgrade.
    if (rules.mustAskServerToClose(last) && !ServerCloseTracker.isClose(request.header("Connection"))
        && request.header("Upgrade") == null) {
      // header(), not addHeader(): BridgeInterceptor has already set Keep-Alive.
      request = request.newBuilder().header("Connection", "close").build();
    }
    if (!serverClose || !isHttp1(connection.protocol())) {
      // Reset closes need nothing more: OkHttp closes the connection after a Connection: close
      // exchange, and the socket resets. Over HTTP/2 the header never reaches the server, so an
      // unarmed (resetting) close is the right one there too.
      return heedPeer(connection, proceedNoting(chain, request, connection, count > 1 ? use : null), last);
    }
    Call call = chain.call();
    ServerCloseTracker tracker = call.tag(SERVER_CLOSE_TRACKER, newTracker);
    tracker.attachTo(call);
    ServerCloseTracker.Exchange exchange = tracker.begin(connection.socket());
    Response response;
    try {
      response = proceedNoting(chain, request, connection, count > 1 ? use : null);
    } catch (IOException | RuntimeException e) {
      tracker.end(exchange);
      throw e;
    }
    return tracker.track(exchange, heedPeer(connection, response, last));
  }

  /**
   * Pooled keep-alive: what the peer said about the connection in {@code response} decides when
   * it retires (OkHttp itself ignores both): an HTTP/1.0 response without {@code Connection:
   * keep-alive} ends the connection, which must never be pooled, and so do {@code Keep-Alive:
   * max=0} and a body that ends at the close; {@code Keep-Alive: timeout=N} retires it before the
   * server's idle timeout ({@link KeepAliveAnnouncement}).
   */
  private Response heedPeer(Connection connection, Response response, boolean last) {
    // The request as it was sent, after any network interceptor behind this one.
    boolean sentClose = ServerCloseTracker.isClose(response.request().header("Connection"));
    if (last && rules.mustAskServerToClose(true) && isHttp1(connection.protocol())
        && response.request().header("Upgrade") == null && !sentClose) {
      closeRemoved(connection);
      return response; // retired at its next reuse: no announced idle time may outlast that
    }
    if (closeEveryRequest) {
      return response;
    }
    if (!last && sentClose) {
      // The caller's own close, as OkHttp reads it (the request as sent): OkHttp ends the
      // connection after this exchange.
      SocketControl.retire(factory, connection.socket(), CloseEvent.Reason.CALLER_ASKED);
      return response;
    }
    String keepAlive = response.header("Keep-Alive");
    long retireAfter;
    if (!ConnectionRules.peerAllowsReuse(
        response.protocol() == Protocol.HTTP_1_0, response.header("Connection"), keepAlive)
        || (isHttp1(response.protocol()) && ConnectionRules.bodyEndsAtClose(response.request().method(),
            response.code(), response.header("Transfer-Encoding"), response.header("Content-Length")))) {
      // A body that ends at the close ends the connection too (OkHttp then takes no new exchange
      // on it): retiring it now also tells the socket that the close is the exchange's end, not
      // the peer's idle timeout after a caller's pause inside the body.
      retireAfter = 0;
      SocketControl.retire(factory, connection.socket(), CloseEvent.Reason.PEER_ANNOUNCED);
    } else {
      retireAfter = KeepAliveAnnouncement.retireAfterIdleNanos(keepAlive);
    }
    if (retireAfter != KeepAliveAnnouncement.NOT_ANNOUNCED) {
      SocketControl.retireWhenIdle(factory, connection.socket(), retireAfter);
    }
    return response;
  }

  private static boolean isHttp1(Protocol protocol) {
    return protocol == Protocol.HTTP_1_1 || protocol == Protocol.HTTP_1_0;
  }

  /**
   * Proceeds; for pooled keep-alive, notes on the call ({@link SlotInterceptor.CallSlot}) whether
   * the exchange failed on a reused connection before any byte of its response arrived, which the
   * socket layer tells from the bytes its connection read (a {@link ResponseMark}, which holds on
   * to the connection: over TLS the JDK may close it on the peer's close_notify). One mark per
   * connection, its count kept per exchange as a {@code long}: no object per request (issue 19).
   *
   * @param reused the connection's use if it carried an exchange before, else null
   */
  private Response proceedNoting(Chain chain, Request request, Connection connection, ConnectionUse reused)
      throws IOException {
    if (!retryUnanswered) {
      return chain.proceed(request);
    }
    SlotInterceptor.CallSlot attempt = chain.call().tag(SlotInterceptor.CALL_SLOT);
    if (attempt != null) {
      attempt.unanswered = false; // each exchange of the call speaks for itself
    }
    ResponseMark mark = null;
    if (reused != null) {
      mark = reused.mark;
      if (mark == null) {
        mark = SocketControl.markResponse(factory, connection.socket());
        reused.mark = mark; // immutable: a race marks twice, harmlessly
      }
    }
    long readBefore = mark != null ? mark.bytesRead() : 0;
    try {
      return chain.proceed(request);
    } catch (IOException e) {
      // OkHttp's ProtocolException: what came was a response, if a malformed one (a status that
      // is no number, a 204 with a body), not the peer's close. Over TLS its few bytes fit those
      // of a close's alerts, which the mark allows for: the request went out once more.
      if (attempt != null && mark != null && !(e instanceof java.net.ProtocolException)
          && mark.peerClosedUnansweredSince(readBefore)) {
        attempt.unanswered = true;
      }
      throw e;
    }
  }

  /**
   * A network interceptor after this one (added after {@code configure}) took the {@code
   * Connection: close} off a connection's last request: OkHttp, which reads the request as it was
   * sent, would pool the connection again past its cap or lifetime, and the server, not asked,
   * keeps it open. The connection retires at its next reuse check instead (with an RST); the
   * user is told once per client, since it needs their action.
   */
  private void closeRemoved(Connection connection) {
    if (!closeEveryRequest) {
      SocketControl.retireWhenIdle(factory, connection.socket(), 0);
    }
    if (warnedCloseRemoved.compareAndSet(false, true)) {
      log.warn("timewait: a network interceptor added after TimeWaitOkHttp.configure took the"
          + " Connection: close off a connection's last request ({}); add network interceptors"
          + " before configure. {}", destination(connection),
          closeEveryRequest ? "Server close resets instead of waiting for the server's FIN."
              : "The connection retires at its next reuse instead.");
    }
  }

  private static String destination(Connection connection) {
    return connection.route().address().url().host() + ":" + connection.route().address().url().port();
  }

  private ConnectionUse useOf(Connection connection) {
    synchronized (uses) {
      return uses.computeIfAbsent(connection, c -> new ConnectionUse(System.nanoTime()));
    }
  }

  @Override
  public String toString() {
    return "TimeWaitOkHttp.CloseInterceptor[" + strategy + "]";
  }

  /** The requests one connection has carried, and when it was first seen. */
  private static final class ConnectionUse {
    final long bornNanos;
    private int requests;
    /** Pooled keep-alive with the unanswered retry: made at the connection's first reuse. */
    volatile ResponseMark mark;

    ConnectionUse(long bornNanos) {
      this.bornNanos = bornNanos;
    }

    synchronized int next() {
      return ++requests;
    }
  }
}
