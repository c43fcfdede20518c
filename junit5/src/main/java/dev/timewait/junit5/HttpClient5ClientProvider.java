package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.io.CloseMode;

/**
 * The {@link ClientProvider} for Apache HttpClient 5's classic client: a {@code
 * CloseableHttpClient} parameter annotated with {@link TimeWaitClient} gets {@link
 * TimeWaitHttpClient5#newClient(CloseStrategy, CloseAccounting)}, closed gracefully after the test
 * (its pool's connections then close the way the strategy says). Used when HttpClient 5 is on the
 * test classpath (skipped otherwise); with HttpClient 5 but without timewait-httpclient5 the
 * parameter fails with a message that names the {@code dev.timewait:timewait-httpclient5}
 * dependency to add.
 *
 * <pre>{@code
 * @Test
 * void fetches(@TimeWaitClient(strategy = Kind.RESET) CloseableHttpClient client) throws IOException {
 *   String body = client.execute(new HttpGet(url), r -> EntityUtils.toString(r.getEntity()));
 * }
 * }</pre>
 *
 * <p>It touches HttpClient's classes only when it makes or closes a client, so it loads
 * without them. Stateless and thread-safe.
 */
public final class HttpClient5ClientProvider extends AdapterClientProvider {
  /** The client type this provider makes. */
  static final String CLIENT_CLASS = "org.apache.hc.client5.http.impl.classic.CloseableHttpClient";

  /**
   * The adapter class this provider calls, by name: the client library may be on the class path
   * without timewait's adapter module, which this module depends on only optionally.
   */
  static final String ADAPTER_CLASS = "dev.timewait.httpclient5.TimeWaitHttpClient5";

  /** The artifactId to add when {@link #ADAPTER_CLASS} is missing. */
  static final String ADAPTER_ARTIFACT = "timewait-httpclient5";

  /** For {@link java.util.ServiceLoader}. */
  public HttpClient5ClientProvider() {
    super(CLIENT_CLASS, ADAPTER_CLASS, ADAPTER_ARTIFACT, "CloseableHttpClient");
  }

  @Override
  Object create(CloseStrategy strategy, CloseAccounting accounting) {
    return TimeWaitHttpClient5.newClient(strategy, accounting);
  }

  /** Closes the client and its pool with {@code CloseMode.GRACEFUL}. */
  @Override
  void shutdown(Object client) {
    ((CloseableHttpClient) client).close(CloseMode.GRACEFUL);
  }
}
