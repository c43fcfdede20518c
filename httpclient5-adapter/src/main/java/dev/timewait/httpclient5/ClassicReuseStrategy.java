package dev.timewait.httpclient5;

import dev.timewait.CloseStrategy;
import org.apache.hc.client5.http.impl.DefaultClientConnectionReuseStrategy;
import org.apache.hc.core5.http.ConnectionReuseStrategy;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http.protocol.HttpCoreContext;

/**
 * The classic client's reuse decision: never for server close and reset; for pooled keep-alive,
 * HttpClient's own rules, the server's {@code Keep-Alive: max=0}, and the cap on requests per
 * connection, read from the connection's
 * request count (the executor put the connection's details in the context).
 *
 * <p>Thread-safe: stateless.
 */
final class ClassicReuseStrategy implements ConnectionReuseStrategy {
  private final CloseStrategy strategy;

  ClassicReuseStrategy(CloseStrategy strategy) {
    this.strategy = strategy;
  }

  @Override
  public boolean keepAlive(HttpRequest request, HttpResponse response, HttpContext context) {
    if (!strategy.keepAlive()) {
      return false;
    }
    if (!DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context)
        || Messages.peerAllowsNoMore(response)) {
      return false; // HttpClient's rules, and the server's Keep-Alive: max=0, which it ignores
    }
    EndpointDetails details = HttpCoreContext.castOrCreate(context).getEndpointDetails();
    return details == null || Messages.mayReuse(strategy, details.getRequestCount());
  }
}
