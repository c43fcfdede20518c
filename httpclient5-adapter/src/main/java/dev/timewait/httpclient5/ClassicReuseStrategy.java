package dev.timewait.httpclient5;

import dev.timewait.spi.ConnectionRules;
import org.apache.hc.client5.http.impl.DefaultClientConnectionReuseStrategy;
import org.apache.hc.core5.http.ConnectionReuseStrategy;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * The classic client's reuse decision: HttpClient's own rules (message framing among them), then
 * {@link ConnectionRules#mayReuse}, with whether the request was its connection's last as {@link
 * ClassicRequestExecutor} found when it went out ({@link ClassicRequestExecutor#LAST_ATTRIBUTE}).
 *
 * <p>Thread-safe: stateless.
 */
final class ClassicReuseStrategy implements ConnectionReuseStrategy {
  private final ConnectionRules rules;

  ClassicReuseStrategy(ConnectionRules rules) {
    this.rules = rules;
  }

  @Override
  public boolean keepAlive(HttpRequest request, HttpResponse response, HttpContext context) {
    if (!rules.keepAlive()) {
      // Reset and server close: a connection per request, but over a Unix domain socket (no TCP,
      // nothing of the strategy's), where HttpClient's own reuse decides, as under pooled.
      return Boolean.TRUE.equals(context.getAttribute(ClassicRequestExecutor.UNIX_DOMAIN_ATTRIBUTE))
          && DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context);
    }
    if (!DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context)) {
      return false;
    }
    boolean last = Boolean.TRUE.equals(context.getAttribute(ClassicRequestExecutor.LAST_ATTRIBUTE));
    return Messages.mayReuse(rules, last, response);
  }
}
