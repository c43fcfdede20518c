package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.PeerIdleTimeouts;
import dev.timewait.spi.KeepAliveAnnouncement;
import dev.timewait.spi.PeerIdle;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.ConnectionKeepAliveStrategy;
import org.apache.hc.client5.http.impl.DefaultConnectionKeepAliveStrategy;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http.protocol.HttpCoreContext;
import org.apache.hc.core5.util.TimeValue;

/**
 * How long HttpClient's pool may keep a connection idle after a response, for pooled keep-alive.
 * Where the server announced its idle timeout ({@code Keep-Alive: timeout=N}), core's rule retires
 * the connection before that timeout ({@link KeepAliveAnnouncement}); HttpClient's own strategy
 * would keep it for exactly N seconds, racing the server's close. Where the server's idle timeout
 * was learned ({@link PeerIdleTimeouts}), the connection retires before that. Otherwise
 * HttpClient's default applies. The pool's idle timeout still bounds all three; the pool discards
 * a connection past this time when it next leases it.
 *
 * <p>Thread-safe: what it reads is thread-safe.
 */
final class PeerKeepAlive implements ConnectionKeepAliveStrategy {
  private final CloseAccounting accounting;

  PeerKeepAlive(CloseAccounting accounting) {
    this.accounting = accounting;
  }

  @Override
  public TimeValue getKeepAliveDuration(HttpResponse response, HttpContext context) {
    Header keepAlive = response.getFirstHeader("Keep-Alive");
    long nanos = KeepAliveAnnouncement.retireAfterIdleNanos(keepAlive == null ? null : keepAlive.getValue());
    long fromLearned = PeerIdle.retireAfterIdleNanos(accounting, remote(context));
    if (fromLearned >= 0 && (nanos == KeepAliveAnnouncement.NOT_ANNOUNCED || fromLearned < nanos)) {
      nanos = fromLearned;
    }
    if (nanos == KeepAliveAnnouncement.NOT_ANNOUNCED) {
      return DefaultConnectionKeepAliveStrategy.INSTANCE.getKeepAliveDuration(response, context);
    }
    // TimeValue.ZERO_MILLISECONDS would mean "keep for ever" to some pools: retire at once instead.
    return TimeValue.of(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)), TimeUnit.MILLISECONDS);
  }

  /** The connection's peer: HttpCore puts the connection's endpoints in the context. */
  private static InetSocketAddress remote(HttpContext context) {
    EndpointDetails details = HttpCoreContext.castOrCreate(context).getEndpointDetails();
    SocketAddress remote = details == null ? null : details.getRemoteAddress();
    return remote instanceof InetSocketAddress ? (InetSocketAddress) remote : null;
  }
}
