package dev.timewait.examples;

import dev.timewait.CloseStrategy;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * One load run, validated: where, with which client, closing how, and how much.
 *
 * <pre>{@code
 * LoadSpec spec = new LoadSpec(URI.create("http://127.0.0.1:8080/"), ClientKind.OKHTTP,
 *     StrategyKind.RESET, CloseStrategy.reset(), 1000, 8, null, null);
 * LoadResult result = LoadEngine.run(spec);
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param url the target, http or https; every request is a GET of it
 * @param client the client to drive
 * @param kind the strategy's name: naive, or one of timewait's
 * @param strategy timewait's strategy; null exactly when {@code kind} is {@link StrategyKind#NAIVE}
 * @param requests the most requests to send, at least 1
 * @param concurrency the requests in flight at once, at least 1
 * @param duration the longest the load runs; null for no bound but {@code requests}
 * @param tls the trust for https; null for the JDK's default trust
 */
public record LoadSpec(
    URI url,
    ClientKind client,
    StrategyKind kind,
    CloseStrategy strategy,
    int requests,
    int concurrency,
    Duration duration,
    Tls tls) {

  /** Validates: nulls, counts > 0, and that {@code strategy} is null exactly for naive. */
  public LoadSpec {
    Objects.requireNonNull(url, "url cannot be null");
    Objects.requireNonNull(client, "client cannot be null");
    Objects.requireNonNull(kind, "kind cannot be null");
    if ((kind == StrategyKind.NAIVE) != (strategy == null)) {
      throw new IllegalArgumentException("strategy must be null exactly for naive, but was " + strategy);
    }
    if (requests <= 0) {
      throw new IllegalArgumentException("requests must be > 0, but was " + requests);
    }
    if (concurrency <= 0) {
      throw new IllegalArgumentException("concurrency must be > 0, but was " + concurrency);
    }
    if (duration != null && (duration.isZero() || duration.isNegative())) {
      throw new IllegalArgumentException("duration must be > 0, but was " + duration);
    }
  }

  /**
   * The client side of https: a context and the trust manager it was made with (OkHttp needs
   * both).
   *
   * @param context the TLS context
   * @param trustManager the trust manager inside {@code context}
   */
  public record Tls(SSLContext context, X509TrustManager trustManager) {
    /** Validates non-null. */
    public Tls {
      Objects.requireNonNull(context, "context cannot be null");
      Objects.requireNonNull(trustManager, "trustManager cannot be null");
    }
  }
}
