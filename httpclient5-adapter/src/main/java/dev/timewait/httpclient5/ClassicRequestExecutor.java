package dev.timewait.httpclient5;

import dev.timewait.spi.SocketControl;
import dev.timewait.CloseEvent;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.spi.ResponseMark;
import dev.timewait.Retirement;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.spi.ConnectionRules;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.HeaderElements;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.Method;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.apache.hc.core5.http.io.HttpClientConnection;
import org.apache.hc.core5.http.io.HttpResponseInformationCallback;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classic client's request executor (HttpClientBuilder#setRequestExecutor): the one place that
 * sees both an exchange and the connection it runs on. Before sending, it asks {@link
 * ConnectionRules} whether the request is its connection's last (by count and by the connection's
 * age) and sets {@code Connection: close} where they say so. Once the response head arrived, if the exchange ends
 * the connection, it arms the connection's socket, so that HttpClient's later close waits for the
 * server's FIN (and ends that wait with an RST when the caller's request, from {@link
 * ClassicCancelExec}, is cancelled, or when the caller leaves the body before its end, as {@link
 * ClassicBodyWatchExec} sees). It also checks that the connection came from this adapter's
 * socket factory.
 *
 * <p>Thread-safe: stateless beyond immutable fields, as HttpRequestExecutor is.
 */
final class ClassicRequestExecutor extends HttpRequestExecutor {
  private static final Logger log = LoggerFactory.getLogger(ClassicRequestExecutor.class);

  /**
   * Context attribute: {@code Boolean.TRUE} if the request is its connection's last ({@link
   * ConnectionRules#isLast}), for {@link ClassicReuseStrategy}; absent otherwise.
   */
  static final String LAST_ATTRIBUTE = "dev.timewait.httpclient5.last";

  /**
   * Context attribute: {@code Boolean.TRUE} if the request went over a Unix domain socket, which
   * {@link ClassicReuseStrategy} leaves to HttpClient's own reuse; absent otherwise.
   */
  static final String UNIX_DOMAIN_ATTRIBUTE = "dev.timewait.httpclient5.unix-domain";

  private final ConnectionRules rules;
  private final TimeWaitSocketFactory sockets;
  /** Whether a connection may be armed: server close, or pooled with server-close retirement. */
  private final boolean mayArm;
  /** Pooled keep-alive with {@link PooledKeepAlive#retryUnanswered()}. */
  private final boolean retryUnanswered;
  /**
   * The CONNECTs each tunnelled connection carried: HttpCore counts them among the connection's
   * requests ({@code EndpointDetails.getRequestCount()}), and a tunnel's first request is its
   * first exchange, not a reuse (nor a step towards its cap). Weak keys: connections drop out.
   */
  private final Map<HttpClientConnection, Long> connects =
      Collections.synchronizedMap(new WeakHashMap<>());
  /** A CONNECT went through this executor: only then is {@link #connects} read per request. */
  private volatile boolean tunnels;

  ClassicRequestExecutor(CloseStrategy strategy, TimeWaitSocketFactory sockets) {
    this.rules = ConnectionRules.of(strategy);
    this.sockets = sockets;
    this.mayArm = strategy.retirement() == Retirement.SERVER_CLOSE;
    this.retryUnanswered =
        strategy instanceof PooledKeepAlive && ((PooledKeepAlive) strategy).retryUnanswered();
  }

  @Override
  public ClassicHttpResponse execute(
      ClassicHttpRequest request,
      HttpClientConnection conn,
      HttpResponseInformationCallback informationCallback,
      HttpContext context) throws IOException, HttpException {
    if (Method.CONNECT.isSame(request.getMethod())) {
      // HttpClient's ConnectExec opens a tunnel through an HTTP proxy with this executor: the
      // CONNECT is not an exchange of the connection's. Asked to close, or armed when the proxy
      // answers, the tunnel would end (the socket layer swallows writes once armed) before TLS
      // and the request went through it.
      try {
        return super.execute(request, conn, informationCallback, context);
      } finally {
        connects.merge(conn, 1L, Long::sum);
        tunnels = true;
      }
    }
    // The connection's details are made once per connection (HttpCore caches them), so reading the
    // endpoints from them costs no getsockname() per request, and a connection's ownership is
    // checked on its first request only: a connection found to be ours stays ours.
    EndpointDetails details = conn.getEndpointDetails();
    long sent = details != null ? details.getRequestCount() : 0;
    if (tunnels && sent > 0) {
      Long tunnelled = connects.get(conn);
      if (tunnelled != null) {
        sent -= tunnelled;
      }
    }
    SocketAddress local = details != null ? details.getLocalAddress() : conn.getLocalAddress();
    SocketAddress remote = details != null ? details.getRemoteAddress() : conn.getRemoteAddress();
    // The connection's socket (an SSLSocket over TLS): the factory finds its connection by it
    // without allocating once it has been seen, and notes the request there for the close record.
    Socket socket = conn instanceof ManagedHttpClientConnection
        ? ((ManagedHttpClientConnection) conn).getSocket() : null;
    if (overUnixDomainSocket(remote, socket)) {
      // HttpClient 5.6 connects a request whose RequestConfig names a Unix domain socket through
      // a socket factory of its own: no TCP, no TIME_WAIT, nothing of the strategy's to apply.
      context.removeAttribute(LAST_ATTRIBUTE); // a context reused after a TCP request's last
      context.setAttribute(UNIX_DOMAIN_ATTRIBUTE, Boolean.TRUE);
      return super.execute(request, conn, informationCallback, context);
    }
    if (!rules.keepAlive()) {
      context.removeAttribute(UNIX_DOMAIN_ATTRIBUTE); // only where the reuse strategy reads it
    }
    long age = socket == null ? -1 : SocketControl.noteRequest(sockets, socket, sent + 1);
    if (sent == 0 && age < 0
        && (local == null || remote == null || !SocketControl.owns(sockets, local, remote))) {
      if (!conn.isOpen()) {
        // A cancel or the client's close reached the connection after HttpClient checked it and
        // before this: it has no socket left to tell whose it was. The call failed, as HttpClient
        // says of a closed connection; it is no misconfiguration.
        throw new ConnectionClosedException("Connection closed before its first request");
      }
      throw new IllegalStateException("timewait: connection " + local + " -> " + remote
          + " was not opened by the socket factory that TimeWaitHttpClient5.configure installed;"
          + " do not replace the connection manager or request executor after configure");
    }
    CloseEvent.Reason lastReason = rules.lastReason(sent + 1, rules.keepAlive() ? age : 0);
    boolean last = lastReason != null;
    if (rules.keepAlive()) {
      // Set only on a connection's last request: the context's first attribute costs HttpCore a
      // HashMap per request, and the reuse strategy reads an absent attribute as "not last".
      if (last) {
        context.setAttribute(LAST_ATTRIBUTE, Boolean.TRUE);
        if (socket != null) {
          SocketControl.retire(sockets, socket, lastReason); // once per connection: its last request
        }
      } else {
        context.removeAttribute(LAST_ATTRIBUTE);
      }
    }
    if (rules.mustAskServerToClose(last)) {
      request.setHeader(HttpHeaders.CONNECTION, HeaderElements.CLOSE);
    }
    ClassicHttpResponse response = executeNoting(request, conn, informationCallback, context, sent > 0);
    if (rules.keepAlive() && !last && socket != null) {
      // The caller's own Connection: close comes first (HttpClient's reuse strategy ends the
      // connection for it), then the peer's answer.
      if (Messages.callerAsksClose(request)) {
        SocketControl.retire(sockets, socket, CloseEvent.Reason.CALLER_ASKED);
      } else if (!Messages.peerAllowsReuse(response) || Messages.bodyEndsAtClose(request, response)) {
        // A body that ends at the close ends the connection too (HttpClient's reuse strategy
        // says so): retired now, the socket takes that close for the exchange's end, not for
        // the peer's idle timeout after a caller's pause inside the body.
        SocketControl.retire(sockets, socket, CloseEvent.Reason.PEER_ANNOUNCED);
      }
    }
    if (mayArm && Messages.endsByAgreement(request, response) && arm(local, remote, context)) {
      log.debug("armed server close of {} -> {}", local, remote);
    }
    return response;
  }

  /**
   * Executes; for pooled keep-alive that retries unanswered requests, notes in the context ({@link
   * ClassicUnansweredRetryExec#UNANSWERED_ATTRIBUTE}) whether the exchange failed on a reused
   * connection before any byte of its response arrived, which the socket layer tells from the bytes
   * its connection read. The connection is still open here: HttpClient discards it after this
   * throws.
   */
  private ClassicHttpResponse executeNoting(ClassicHttpRequest request, HttpClientConnection conn,
      HttpResponseInformationCallback informationCallback, HttpContext context, boolean reused)
      throws IOException, HttpException {
    if (!retryUnanswered) {
      return super.execute(request, conn, informationCallback, context);
    }
    context.removeAttribute(ClassicUnansweredRetryExec.UNANSWERED_ATTRIBUTE);
    Socket socket = reused && conn instanceof ManagedHttpClientConnection
        ? ((ManagedHttpClientConnection) conn).getSocket() : null;
    ResponseMark mark = socket == null ? null : SocketControl.markResponse(sockets, socket);
    try {
      return super.execute(request, conn, informationCallback, context);
    } catch (IOException e) {
      if (mark != null && mark.peerClosedUnanswered()) {
        context.setAttribute(ClassicUnansweredRetryExec.UNANSWERED_ATTRIBUTE, Boolean.TRUE);
      }
      throw e;
    }
  }

  /**
   * Whether the connection is a Unix domain socket's: a socket with no IP peer
   * (HttpClient's own socket for it reports the peer 0.0.0.0:0 in the connection's details), or,
   * where the socket is not known, a peer address not of IP (the async client's).
   */
  static boolean overUnixDomainSocket(SocketAddress remote, Socket socket) {
    // Not isConnected(): HttpClient's UDS socket says false once closed (a cancel before the
    // request), where a TCP socket keeps both its state and its peer's address after a close.
    return socket != null ? socket.getInetAddress() == null
        : remote != null && !(remote instanceof InetSocketAddress);
  }

  /**
   * Arms with a {@link ClassicBodyWatchExec.Watch}: the caller's request's cancel flag, when {@link
   * ClassicCancelExec} found one, and whether the caller left the body before its end, which
   * {@link ClassicBodyWatchExec} sees once the response leaves HttpClient's protocol handler.
   */
  private boolean arm(SocketAddress local, SocketAddress remote, HttpContext context) {
    Object caller = context.getAttribute(ClassicCancelExec.REQUEST_ATTRIBUTE);
    ClassicBodyWatchExec.Watch watch = new ClassicBodyWatchExec.Watch(
        caller instanceof CancellableDependency ? (CancellableDependency) caller : null);
    if (!SocketControl.arm(sockets, local, remote, watch)) {
      return false;
    }
    context.setAttribute(ClassicBodyWatchExec.WATCH_ATTRIBUTE, watch);
    return true;
  }
}
