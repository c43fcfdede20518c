package dev.timewait.httpclient5;

import dev.timewait.CloseStrategy;
import dev.timewait.TimeWaitSocketFactory;
import java.io.IOException;
import java.net.SocketAddress;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.HeaderElements;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.impl.io.HttpRequestExecutor;
import org.apache.hc.core5.http.io.HttpClientConnection;
import org.apache.hc.core5.http.io.HttpResponseInformationCallback;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classic client's request executor (HttpClientBuilder#setRequestExecutor): the one place that
 * sees both an exchange and the connection it runs on. Before sending, it asks the server to close
 * when the strategy says so (every request under server close; the last one a pooled connection
 * may carry when it retires by server close). Once the response head arrived, if the exchange ends
 * the connection, it arms the connection's socket, so that HttpClient's later close waits for the
 * server's FIN. It also checks that the connection came from this adapter's socket factory.
 *
 * <p>Thread-safe: stateless beyond immutable fields, as HttpRequestExecutor is.
 */
final class ClassicRequestExecutor extends HttpRequestExecutor {
  private static final Logger log = LoggerFactory.getLogger(ClassicRequestExecutor.class);

  private final CloseStrategy strategy;
  private final TimeWaitSocketFactory sockets;

  ClassicRequestExecutor(CloseStrategy strategy, TimeWaitSocketFactory sockets) {
    this.strategy = strategy;
    this.sockets = sockets;
  }

  @Override
  public ClassicHttpResponse execute(
      ClassicHttpRequest request,
      HttpClientConnection conn,
      HttpResponseInformationCallback informationCallback,
      HttpContext context) throws IOException, HttpException {
    SocketAddress local = conn.getLocalAddress();
    SocketAddress remote = conn.getRemoteAddress();
    if (local == null || remote == null || !sockets.owns(local, remote)) {
      throw new IllegalStateException("timewait: connection " + local + " -> " + remote
          + " was not opened by the socket factory that TimeWaitHttpClient5.configure installed;"
          + " do not replace the connection manager or request executor after configure");
    }
    EndpointDetails details = conn.getEndpointDetails();
    long sent = details != null ? details.getRequestCount() : 0;
    if (Messages.mustAskServerToClose(strategy, sent + 1)) {
      request.setHeader(HttpHeaders.CONNECTION, HeaderElements.CLOSE);
    }
    ClassicHttpResponse response = super.execute(request, conn, informationCallback, context);
    if (Messages.endsConnection(request, response) && sockets.arm(local, remote)) {
      log.debug("armed server close of {} -> {}", local, remote);
    }
    return response;
  }
}
