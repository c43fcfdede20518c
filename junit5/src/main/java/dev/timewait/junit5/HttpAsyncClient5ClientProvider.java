package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import java.util.Objects;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.core5.io.CloseMode;

/**
 * The {@link ClientProvider} for Apache HttpClient 5's async client: a {@code
 * CloseableHttpAsyncClient} parameter annotated with {@link TimeWaitClient} gets {@link
 * TimeWaitHttpClient5#newAsyncClient(CloseStrategy, CloseAccounting)}, already started, and
 * closed gracefully after the test (its pool's connections then close the way the strategy
 * says). Used when timewait-httpclient5 is on the test classpath; skipped otherwise.
 *
 * <pre>{@code
 * @Test
 * void fetches(@TimeWaitClient(strategy = Strategy.POOLED) CloseableHttpAsyncClient client) throws Exception {
 *   SimpleHttpResponse r = client.execute(SimpleRequestBuilder.get(url).build(), null).get(10, SECONDS);
 * }
 * }</pre>
 *
 * <p>It touches HttpClient's classes only in {@link #newClient} and {@link #close}, so it loads
 * without them. Stateless and thread-safe.
 */
public final class HttpAsyncClient5ClientProvider implements ClientProvider {
  /** The client type this provider makes. */
  static final String CLIENT_CLASS = "org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient";

  /** For {@link java.util.ServiceLoader}. */
  public HttpAsyncClient5ClientProvider() {}

  @Override
  public String clientClassName() {
    return CLIENT_CLASS;
  }

  /** A new async client for {@code strategy}, started. */
  @Override
  public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
    Objects.requireNonNull(strategy, "strategy cannot be null");
    Objects.requireNonNull(accounting, "accounting cannot be null");
    CloseableHttpAsyncClient client = TimeWaitHttpClient5.newAsyncClient(strategy, accounting);
    client.start();
    return client;
  }

  /** Closes the client, its reactor and its pool with {@code CloseMode.GRACEFUL}. */
  @Override
  public void close(Object client) {
    Objects.requireNonNull(client, "client cannot be null");
    ((CloseableHttpAsyncClient) client).close(CloseMode.GRACEFUL);
  }
}
