package dev.timewait.junit5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.okhttp.TimeWaitOkHttp;
import okhttp3.OkHttpClient;

/**
 * The {@link ClientProvider} for OkHttp: an {@code OkHttpClient} parameter annotated with {@link
 * TimeWaitClient} gets a client made by {@link TimeWaitOkHttp#newClient(CloseStrategy,
 * CloseAccounting)}, shut down after the test with {@link
 * TimeWaitOkHttp#shutdown(OkHttpClient)}. Used when OkHttp is on the test classpath (skipped
 * otherwise); with OkHttp but without timewait-okhttp the parameter fails with a message that
 * names the {@code dev.timewait:timewait-okhttp} dependency to add.
 *
 * <pre>{@code
 * @Test
 * void fetches(@TimeWaitClient(strategy = Kind.SERVER_CLOSE) OkHttpClient client) throws IOException {
 *   try (Response r = client.newCall(new Request.Builder().url(url).build()).execute()) { ... }
 * }
 * }</pre>
 *
 * <p>It touches OkHttp's classes only when it makes or closes a client, so it loads
 * without them. Stateless and thread-safe.
 */
public final class OkHttpClientProvider extends AdapterClientProvider {
  /** The client type this provider makes. */
  static final String CLIENT_CLASS = "okhttp3.OkHttpClient";

  /**
   * The adapter class this provider calls, by name: the client library may be on the class path
   * without timewait's adapter module, which this module depends on only optionally.
   */
  static final String ADAPTER_CLASS = "dev.timewait.okhttp.TimeWaitOkHttp";

  /** The artifactId to add when {@link #ADAPTER_CLASS} is missing. */
  static final String ADAPTER_ARTIFACT = "timewait-okhttp";

  /** For {@link java.util.ServiceLoader}. */
  public OkHttpClientProvider() {
    super(CLIENT_CLASS, ADAPTER_CLASS, ADAPTER_ARTIFACT, "OkHttpClient");
  }

  @Override
  Object create(CloseStrategy strategy, CloseAccounting accounting) {
    // Pooled: async calls beyond the pool's bounds queue in the dispatcher, not on a slot.
    return TimeWaitOkHttp.newClient(strategy, accounting);
  }

  /** {@link TimeWaitOkHttp#shutdown(OkHttpClient)}: no new calls; idle connections closed now. */
  @Override
  void shutdown(Object client) {
    TimeWaitOkHttp.shutdown((OkHttpClient) client);
  }
}
