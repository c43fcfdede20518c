package dev.timewait.httpclient5;

import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.ServerClose;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HeaderElements;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpMessage;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.HttpVersion;
import org.apache.hc.core5.http.ProtocolVersion;

/** What an exchange says about its connection's end. Stateless. */
final class Messages {
  private Messages() {}

  /** Whether {@code message} carries the {@code close} token in a {@code Connection} header. */
  static boolean saysClose(HttpMessage message) {
    return hasToken(message, HeaderElements.CLOSE);
  }

  /**
   * Whether the exchange ends its connection by agreement: either side said {@code Connection:
   * close}, or an HTTP/1.0 server did not offer keep-alive. The server then closes once it has
   * answered, so the client may wait for its FIN.
   */
  static boolean endsConnection(HttpMessage request, HttpResponse response) {
    if (saysClose(request) || saysClose(response)) {
      return true;
    }
    ProtocolVersion version = response.getVersion();
    return version != null
        && version.lessEquals(HttpVersion.HTTP_1_0)
        && !hasToken(response, HeaderElements.KEEP_ALIVE);
  }

  /** Whether the server announced in {@code Keep-Alive: max=0} that it takes no more requests. */
  static boolean peerAllowsNoMore(HttpResponse response) {
    Header keepAlive = response.getFirstHeader("Keep-Alive");
    return keepAlive != null
        && dev.timewait.spi.KeepAliveAnnouncement.allowsNoMoreRequests(keepAlive.getValue());
  }

  private static boolean hasToken(HttpMessage message, String token) {
    for (Header header : message.getHeaders(HttpHeaders.CONNECTION)) {
      String value = header.getValue();
      if (value == null) {
        continue;
      }
      for (String part : value.split(",")) {
        if (part.trim().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether the request that makes {@code requestsIncludingThis} requests on its connection must
   * ask the server to close: every request under {@link ServerClose}; the last one a {@link
   * PooledKeepAlive} connection may carry when it retires by server close.
   */
  static boolean mustAskServerToClose(CloseStrategy strategy, long requestsIncludingThis) {
    if (strategy instanceof ServerClose) {
      return true;
    }
    if (strategy instanceof PooledKeepAlive) {
      PooledKeepAlive pooled = (PooledKeepAlive) strategy;
      return pooled.retirement() == Retirement.SERVER_CLOSE
          && requestsIncludingThis >= pooled.maxRequestsPerConnection();
    }
    return false;
  }

  /** Whether a connection that carried {@code requests} requests may carry another one. */
  static boolean mayReuse(CloseStrategy strategy, long requests) {
    if (!(strategy instanceof PooledKeepAlive)) {
      return false; // server close and reset: one connection per request
    }
    return requests < ((PooledKeepAlive) strategy).maxRequestsPerConnection();
  }
}
