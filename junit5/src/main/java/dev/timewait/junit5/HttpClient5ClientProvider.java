package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import java.util.Objects;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.io.CloseMode;

/**
 * The {@link ClientProvider} for Apache HttpClient 5's classic client: a {@code
 * CloseableHttpClient} parameter annotated with {@link TimeWaitClient} gets {@link
 * TimeWaitHttpClient5#newClient(CloseStrategy, CloseAccounting)}, closed gracefully after the test
 * (its pool's connections then close the way the strategy says). Used when timewait-httpclient5
 * is on the test classpath; skipped otherwise.
 *
 * <pre>{@code
 * @Test
 * void fetches(@TimeWaitClient(strategy = Strategy.RESET) CloseableHttpClient client) throws IOException {
 *   String body = client.execute(new HttpGet(url), r -> EntityUtils.toString(r.getEntity()));
 * }
 * }</pre>
 *
 * <p>It touches HttpClient's classes only in {@link #newClient} and {@link #close}, so it loads
 * without them. Stateless and thread-safe.
 */
public final class HttpClient5ClientProvider implements ClientProvider {
  /** The client type this provider makes. */
  static final String CLIENT_CLASS = "org.apache.hc.client5.http.impl.classic.CloseableHttpClient";

  /** For {@link java.util.ServiceLoader}. */
  public HttpClient5ClientProvider() {}

  @Override
  public String clientClassName() {
    return CLIENT_CLASS;
  }

  @Override
  public Object newClient(CloseStrategy strategy, CloseAccounting accounting) {
    Objects.requireNonNull(strategy, "strategy cannot be null");
    Objects.requireNonNull(accounting, "accounting cannot be null");
    return TimeWaitHttpClient5.newClient(strategy, accounting);
  }

  /** Closes the client and its pool with {@code CloseMode.GRACEFUL}. */
  @Override
  public void close(Object client) {
    Objects.requireNonNull(client, "client cannot be null");
    ((CloseableHttpClient) client).close(CloseMode.GRACEFUL);
  }
}
