package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.internal.Preconditions;
import java.util.Map;
import java.util.WeakHashMap;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;

/**
 * Apache HttpClient 5 (classic and async) with a timewait {@link CloseStrategy}, so that the
 * client keeps no TIME_WAIT: {@code configure} sets the parts of the builder that decide how
 * connections close and hands the builder back, with every other setting the caller made.
 *
 * <pre>{@code
 * CloseAccounting accounting = new CloseAccounting();
 * try (CloseableHttpClient client = TimeWaitHttpClient5
 *     .configure(HttpClients.custom(), CloseStrategy.serverClose(), accounting)
 *     .setUserAgent("load-test")
 *     .build()) {
 *   client.execute(new HttpGet("http://127.0.0.1:8080/"), response -> {
 *     EntityUtils.consume(response.getEntity());
 *     return response.getCode();
 *   });
 * }
 * CloseStats stats = accounting.snapshot(); // closedLocallyFirst == 0
 *
 * CloseableHttpAsyncClient async = TimeWaitHttpClient5.newAsyncClient(CloseStrategy.reset());
 * async.start();
 * }</pre>
 *
 * <p>{@code configure} replaces the builder's connection manager and, classic, its request
 * executor and reuse strategy, async, its reuse strategy, I/O session decorator and listener; it
 * adds interceptors of its own. Do not set those again afterwards (requests on a connection the
 * adapter did not open fail with {@link IllegalStateException}), and call it once per builder (a
 * second call throws {@link IllegalArgumentException}). Every other setting stays the caller's.
 * {@code configure} throws {@link IllegalStateException} naming the floor when the HttpClient on the
 * class path is older than 5.5 (README "Supported versions"). What each strategy does on each
 * client, TLS, HTTP/2 and the async caveats: docs/httpclient5.md.
 *
 * <p>Thread-safe: static methods, whose one piece of state (the builders configured so far, weakly
 * held) is guarded. The builders themselves are not thread-safe (configure one builder on one
 * thread); the clients they build are.
 */
public final class TimeWaitHttpClient5 {
  /**
   * The builders {@code configure} has configured, with the strategy, so that a second call fails
   * instead of silently stacking a second connection manager and socket factory over the first
   * (whose accounting would then count nothing). HttpClient's builders have no getters that would
   * tell, so the adapter remembers them: weakly, so a dropped builder is not kept alive, and by
   * identity, since the builders do not override {@code equals}.
   */
  private static final Map<Object, CloseStrategy> CONFIGURED = new WeakHashMap<>();

  private TimeWaitHttpClient5() {}

  // ---- classic

  /**
   * Configures {@code builder} for {@code strategy}, with an accounting nobody reads.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @return {@code builder}, for chaining
   */
  public static HttpClientBuilder configure(HttpClientBuilder builder, CloseStrategy strategy) {
    return configure(builder, strategy, new CloseAccounting());
  }

  /**
   * Configures {@code builder} for {@code strategy}, counting closes into {@code accounting}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return {@code builder}, for chaining
   */
  public static HttpClientBuilder configure(
      HttpClientBuilder builder, CloseStrategy strategy, CloseAccounting accounting) {
    return configure(builder, strategy, accounting, HttpClient5Options.defaults());
  }

  /**
   * Like {@link #configure(HttpClientBuilder, CloseStrategy, CloseAccounting)}, trusting {@code sslContext}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @param sslContext the TLS context for https connections
   * @return {@code builder}, for chaining
   */
  public static HttpClientBuilder configure(
      HttpClientBuilder builder, CloseStrategy strategy, CloseAccounting accounting,
      SSLContext sslContext) {
    Preconditions.checkNotNull(sslContext, "sslContext");
    return configure(builder, strategy, accounting,
        HttpClient5Options.builder().sslContext(sslContext).build());
  }

  /**
   * Configures {@code builder} for {@code strategy} with {@code options}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @param options the connection manager settings
   * @return {@code builder}, for chaining
   * @throws IllegalArgumentException if {@code builder} was configured by timewait already, or
   *     {@code options} allow HTTP/2 for a strategy that needs {@code Connection: close} (as the
   *     async client refuses them: {@link HttpClient5Options#allowHttp2()})
   */
  public static HttpClientBuilder configure(
      HttpClientBuilder builder, CloseStrategy strategy, CloseAccounting accounting,
      HttpClient5Options options) {
    Preconditions.checkNotNull(builder, "builder");
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
    Preconditions.checkNotNull(options, "options");
    checkNotConfigured(builder);
    SupportedVersion.check();
    HttpClientBuilder configured;
    try {
      configured = ClassicConfigurer.configure(builder, strategy, accounting, options);
    } catch (LinkageError unsupported) {
      throw SupportedVersion.unsupported(unsupported);
    }
    remember(builder, strategy);
    return configured;
  }

  /**
   * A classic client for {@code strategy} with HttpClient's other defaults.
   *
   * @param strategy how connections close
   * @return a classic client for {@code strategy} with HttpClient's other defaults
   */
  public static CloseableHttpClient newClient(CloseStrategy strategy) {
    return newClient(strategy, new CloseAccounting());
  }

  /**
   * A classic client for {@code strategy} that counts closes into {@code accounting}.
   *
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return a classic client for {@code strategy} that counts closes into {@code accounting}
   */
  public static CloseableHttpClient newClient(CloseStrategy strategy, CloseAccounting accounting) {
    return configure(HttpClients.custom(), strategy, accounting).build();
  }

  // ---- async

  /**
   * Configures {@code builder} for {@code strategy}, with an accounting nobody reads.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @return {@code builder}, for chaining
   */
  public static HttpAsyncClientBuilder configure(HttpAsyncClientBuilder builder, CloseStrategy strategy) {
    return configure(builder, strategy, new CloseAccounting());
  }

  /**
   * Configures {@code builder} for {@code strategy}, counting closes into {@code accounting}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return {@code builder}, for chaining
   */
  public static HttpAsyncClientBuilder configure(
      HttpAsyncClientBuilder builder, CloseStrategy strategy, CloseAccounting accounting) {
    return configure(builder, strategy, accounting, HttpClient5Options.defaults());
  }

  /**
   * Like {@link #configure(HttpAsyncClientBuilder, CloseStrategy, CloseAccounting)}, trusting {@code sslContext}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @param sslContext the TLS context for https connections
   * @return {@code builder}, for chaining
   */
  public static HttpAsyncClientBuilder configure(
      HttpAsyncClientBuilder builder, CloseStrategy strategy, CloseAccounting accounting,
      SSLContext sslContext) {
    Preconditions.checkNotNull(sslContext, "sslContext");
    return configure(builder, strategy, accounting,
        HttpClient5Options.builder().sslContext(sslContext).build());
  }

  /**
   * Configures {@code builder} for {@code strategy} with {@code options}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @param options the connection manager settings
   * @return {@code builder}, for chaining
   * @throws IllegalArgumentException if {@code options} allow HTTP/2 and {@code strategy} is not
   *     pooled with RESET retirement, or if {@code builder} was configured by timewait already
   */
  public static HttpAsyncClientBuilder configure(
      HttpAsyncClientBuilder builder, CloseStrategy strategy, CloseAccounting accounting,
      HttpClient5Options options) {
    Preconditions.checkNotNull(builder, "builder");
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
    Preconditions.checkNotNull(options, "options");
    checkNotConfigured(builder);
    SupportedVersion.check();
    HttpAsyncClientBuilder configured;
    try {
      configured = AsyncConfigurer.configure(builder, strategy, accounting, options);
    } catch (LinkageError unsupported) {
      throw SupportedVersion.unsupported(unsupported);
    }
    remember(builder, strategy);
    return configured;
  }

  /**
   * An async client for {@code strategy} with HttpClient's other defaults. Like HttpClient's own
   * factories, it is not started: call {@code start()}.
   *
   * @param strategy how connections close
   * @return an async client for {@code strategy} with HttpClient's other defaults
   */
  public static CloseableHttpAsyncClient newAsyncClient(CloseStrategy strategy) {
    return newAsyncClient(strategy, new CloseAccounting());
  }

  /**
   * Like {@link #newAsyncClient(CloseStrategy)}, counting closes into {@code accounting}.
   *
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return a new async client, not started
   */
  public static CloseableHttpAsyncClient newAsyncClient(
      CloseStrategy strategy, CloseAccounting accounting) {
    return configure(HttpAsyncClients.custom(), strategy, accounting).build();
  }

  // The same message shape as TimeWaitOkHttp's, so both adapters read alike.
  private static void checkNotConfigured(Object builder) {
    CloseStrategy earlier;
    synchronized (CONFIGURED) {
      earlier = CONFIGURED.get(builder);
    }
    if (earlier != null) {
      throw new IllegalArgumentException(
          "builder must not be configured by TimeWaitHttpClient5 yet, but it was (for "
              + earlier + "); configure a builder once");
    }
  }

  // After a successful configure only: the configurers validate before they touch the builder, so
  // a call that threw (HTTP/2 refused, say) left it unconfigured and may be corrected and repeated.
  private static void remember(Object builder, CloseStrategy strategy) {
    synchronized (CONFIGURED) {
      CONFIGURED.put(builder, strategy);
    }
  }
}
