package dev.timewait.httpclient5;

import dev.timewait.PooledKeepAlive;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/** The pool settings a pooled strategy gives both HttpClient 5 clients. Stateless. */
final class Pooling {
  private Pooling() {}

  /**
   * The user's connection config with the strategy's idle timeout, and, unless the
   * user chose one, re-validation of connections idle for the strategy's {@code
   * staleCheckAfterIdle}: HttpClient then reads each such connection with a 1 ms timeout before
   * leasing it, sees the peer's FIN, and opens a new one (its own default waits 2 s, and a load
   * balancer closing idle connections after 1 s cost 109 of 300 requests).
   */
  static ConnectionConfig connectionConfig(
      PooledKeepAlive pooled, ConnectionConfig user, boolean http2) {
    // The lifetime is core's connection rule (ConnectionRules): a connection past maxLifetime
    // retires with its next request, which carries Connection: close under server-close
    // retirement, instead of being reset by the pool's time-to-live when it is next leased. Only
    // a connection that may speak HTTP/2 keeps the time-to-live: HTTP/2 has no request that ends
    // its connection (RFC 9113 8.2.2 forbids the Connection header), and it retires by reset.
    ConnectionConfig.Builder config = ConnectionConfig.copy(user)
        .setTimeToLive(http2 ? TimeValue.of(pooled.maxLifetime()) : null);
    try {
      config.setIdleTimeout(Timeout.of(pooled.idleTimeout()));
    } catch (NoSuchMethodError beforeHttpClient56) {
      // ConnectionConfig's idle timeout came with HttpClient 5.6; before it, the idle eviction
      // both configurers set (evictIdleConnections) is what retires idle connections.
    }
    if (user.getValidateAfterInactivity() == null) {
      config.setValidateAfterInactivity(TimeValue.of(pooled.staleCheckAfterIdle()));
    }
    return config.build();
  }
}
