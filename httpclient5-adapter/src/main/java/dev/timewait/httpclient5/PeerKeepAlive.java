package dev.timewait.httpclient5;

import dev.timewait.spi.KeepAliveAnnouncement;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.ConnectionKeepAliveStrategy;
import org.apache.hc.client5.http.impl.DefaultConnectionKeepAliveStrategy;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.TimeValue;

/**
 * How long HttpClient's pool may keep a connection idle after a response, for pooled keep-alive:
 * where the server announced its idle timeout ({@code Keep-Alive: timeout=N}), core's rule retires
 * the connection before that timeout ({@link KeepAliveAnnouncement}); HttpClient's own strategy
 * would keep it for exactly N seconds, racing the server's close. Otherwise HttpClient's default
 * applies. The pool's idle timeout still bounds both. Stateless and thread-safe.
 */
final class PeerKeepAlive implements ConnectionKeepAliveStrategy {
  static final PeerKeepAlive INSTANCE = new PeerKeepAlive();

  private PeerKeepAlive() {}

  @Override
  public TimeValue getKeepAliveDuration(HttpResponse response, HttpContext context) {
    Header keepAlive = response.getFirstHeader("Keep-Alive");
    long nanos = KeepAliveAnnouncement.retireAfterIdleNanos(keepAlive == null ? null : keepAlive.getValue());
    if (nanos == KeepAliveAnnouncement.NOT_ANNOUNCED) {
      return DefaultConnectionKeepAliveStrategy.INSTANCE.getKeepAliveDuration(response, context);
    }
    // TimeValue.ZERO_MILLISECONDS would mean "keep for ever" to some pools: retire at once instead.
    return TimeValue.of(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)), TimeUnit.MILLISECONDS);
  }
}
