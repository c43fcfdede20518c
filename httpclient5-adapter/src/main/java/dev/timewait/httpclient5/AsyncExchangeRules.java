package dev.timewait.httpclient5;

import dev.timewait.CloseEvent;
import dev.timewait.spi.ConnectionRules;
import org.apache.hc.client5.http.impl.DefaultClientConnectionReuseStrategy;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.ConnectionReuseStrategy;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.HeaderElements;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpRequestInterceptor;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.Method;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.ProtocolVersion;
import org.apache.hc.core5.http.message.MessageSupport;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http.protocol.HttpCoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The async client's per-exchange rules. As a request interceptor (it runs once the request has a
 * connection: HttpCore puts the connection's endpoints in the context first) it counts the
 * connection's requests, asks {@link ConnectionRules} whether the request is the connection's last
 * (by count and age) and sets {@code Connection: close} where they say so. As the connection reuse
 * strategy (consulted by the HTTP/1.1 duplexer when the response head arrives) it applies their
 * reuse rule and arms a connection whose exchange ends it by agreement.
 *
 * <p>The adapter counts requests itself: HttpCore 5.4's async HTTP/1.1 duplexer increments its
 * request count both when a request goes out and when its response comes in.
 *
 * <p>Thread-safe: state lives in the thread-safe {@link AsyncConnections}.
 */
final class AsyncExchangeRules implements HttpRequestInterceptor, ConnectionReuseStrategy {
  private static final Logger log = LoggerFactory.getLogger(AsyncExchangeRules.class);

  private final AsyncConnections connections;

  /** {@link HttpClient5Options#allowHttp2()}, checked against the strategy at configure. */
  private final boolean http2Allowed;
  /** The strategy's name, for the refusal of HTTP/2. */
  private final String strategyName;

  AsyncExchangeRules(AsyncConnections connections, boolean http2Allowed, String strategyName) {
    this.connections = connections;
    this.http2Allowed = http2Allowed;
    this.strategyName = strategyName;
  }

  /**
   * Whether the exchange's connection is a Unix domain socket's (HttpClient 5.6's {@code
   * RequestConfig.setUnixDomainSocket}), which the connection registry leaves alone: asked only
   * where the registry has no connection, or under reset, which never looks it up.
   */
  private static boolean overUnixDomainSocket(HttpContext context) {
    EndpointDetails details = HttpCoreContext.castOrCreate(context).getEndpointDetails();
    return details != null && ClassicRequestExecutor.overUnixDomainSocket(details.getRemoteAddress(), null);
  }

  private AsyncConnection connectionOf(HttpContext context) {
    return connections.find(HttpCoreContext.castOrCreate(context).getEndpointDetails());
  }

  @Override
  public void process(HttpRequest request, EntityDetails entity, HttpContext context)
      throws HttpException, ConnectionClosedException {
    if (Method.CONNECT.isSame(request.getMethod())) {
      return; // a tunnel through an HTTP proxy (AsyncConnectExec): no exchange of the connection's
    }
    AsyncConnection connection = connectionOf(context);
    if (connection == null) {
      if (overUnixDomainSocket(context)) {
        return; // not in the registry: no TCP, no TIME_WAIT, nothing of the strategy's to apply
      }
      EndpointDetails details = HttpCoreContext.castOrCreate(context).getEndpointDetails();
      if (details != null
          && (details.getLocalAddress() == null || details.getRemoteAddress() == null)) {
        // A closed socket has no addresses: a call cancelled as it connected, or a client closing,
        // closed the connection before its request went out.
        throw new ConnectionClosedException("the connection closed before the request went out");
      }
      throw new IllegalStateException("timewait: the request's connection was not opened through"
          + " the I/O session decorator that TimeWaitHttpClient5.configure installed; do not replace"
          + " the connection manager, I/O session decorator or listener after configure");
    }
    long requests = connection.nextRequest();
    if (connections.pooled()) {
      AsyncUnansweredRetryExec.noteSent(request, connection, requests > 1, context);
    }
    ProtocolVersion version = HttpCoreContext.castOrCreate(context).getProtocolVersion();
    if (version != null && version.getMajor() >= 2) {
      if (!http2Allowed) {
        // The builder's own version policy (its deprecated setVersionPolicy, or a TlsConfig passed
        // with the request) overrides the manager's HTTP/1.1 that configure set: the strategy,
        // which needs HTTP/1.1's Connection header, would silently become an HTTP/2 pool. Refused
        // before any byte of the request goes out.
        throw new ProtocolException("timewait: the connection speaks " + version + ", but "
            + strategyName + " needs HTTP/1.1 (server close and the request cap use its"
            + " Connection header); something set after TimeWaitHttpClient5.configure chose HTTP/2"
            + " (the builder's setVersionPolicy, a TlsConfig): leave it out, or allow HTTP/2 with"
            + " HttpClient5Options.allowHttp2 for pooled keep-alive with RESET retirement");
      }
      // HTTP/2 (allowHttp2): a request with a Connection header is malformed (RFC 9113 8.2.2),
      // and servers refuse its stream (Jetty, Tomcat, Netty); neither the request cap nor server
      // close applies over it (docs/httpclient5.md), the pool's time-to-live retires the
      // connection. Before: every request past the cap was refused and answered by the
      // unanswered retry on a new connection (Http2ChoiceTest: 4 stale retries in 5 requests).
      return;
    }
    ConnectionRules rules = connections.rules();
    CloseEvent.Reason lastReason = rules.lastReason(requests, System.nanoTime() - connection.openedNanos);
    boolean last = lastReason != null;
    connection.last = last;
    if (last) {
      connection.retire(lastReason);
    }
    if (rules.mustAskServerToClose(last)) {
      request.setHeader(HttpHeaders.CONNECTION, HeaderElements.CLOSE);
    }
  }

  @Override
  public boolean keepAlive(HttpRequest request, HttpResponse response, HttpContext context) {
    if (Method.CONNECT.isSame(request.getMethod())) {
      // The proxy's answer to a tunnel: kept where HttpClient keeps it (a 200 opens the tunnel the
      // request then goes through); HttpCore would close the connection otherwise, with TLS and
      // the request not yet sent.
      return DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context);
    }
    boolean pooled = connections.pooled();
    if (!pooled && !connections.closer().closesByServer()) {
      // Reset: no connection carries a second request, and none is armed (only a FIN wait needs
      // that): nothing to read from the messages. A Unix domain socket's is HttpClient's to keep.
      return overUnixDomainSocket(context)
          && DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context);
    }
    AsyncConnection connection = connectionOf(context);
    if (connection == null && overUnixDomainSocket(context)) {
      return DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context);
    }
    boolean keep = connection != null && pooled
        && DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context)
        && Messages.mayReuse(connections.rules(), connection.last, response);
    if (!keep && connection != null && pooled && !connection.last) {
      // The caller's own Connection: close comes first, then the peer's answer.
      if (Messages.callerAsksClose(request)) {
        connection.retire(CloseEvent.Reason.CALLER_ASKED);
      } else if (!Messages.peerAllowsReuse(response) || Messages.bodyEndsAtClose(request, response)) {
        connection.retire(CloseEvent.Reason.PEER_ANNOUNCED);
      }
    }
    if (!keep && connection != null && Messages.endsByAgreement(request, response)) {
      connection.armed = true;
      log.debug("armed server close of {}", connection);
      if (connections.closer().closesByServer()
          && !MessageSupport.canResponseHaveBody(request.getMethod(), response)) {
        // Without a body, HttpClient would validate the connection right after this and, finding
        // it closed, discard it with close(IMMEDIATE) past the decorator: a reset. So it stays
        // open here, and the adapter closes it when the exchange completes (AsyncFinWaitExec).
        connection.closeAfterExchange = true;
        return true;
      }
    }
    return keep;
  }
}
