package dev.timewait.examples;

import dev.timewait.CloseStrategy;
import java.net.URI;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * One load run, validated: where, with which client, closing how, what each request is, how
 * much, and how it is paced.
 *
 * <pre>{@code
 * LoadSpec spec = new LoadSpec(URI.create("http://127.0.0.1:8080/"), ClientKind.OKHTTP,
 *     StrategyKind.RESET, CloseStrategy.reset(), 1000, 8, null, null);
 * LoadResult result = LoadEngine.run(spec);
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param url the target, http or https
 * @param client the client to drive
 * @param kind the strategy's name: naive, raw, or one of timewait's
 * @param strategy timewait's strategy; null exactly when {@code kind} is {@link StrategyKind#NAIVE}
 *     or {@link StrategyKind#RAW}
 * @param requests the most requests to send, at least 1
 * @param concurrency the requests in flight at once, at least 1
 * @param duration the longest the load runs; null for no bound but {@code requests}
 * @param tls the trust for https; null for the JDK's default trust
 * @param method GET or POST
 * @param bodySize the POST body's length in bytes; 0 for GET
 * @param retries whether the client's own automatic retries are on (its default retry settings)
 * @param pacing how requests are spaced in time
 * @param startSignal a file whose appearance starts the load, once the client is built, so that
 *     several processes start their load together; null to start as soon as the client is built
 * @param warmup requests sent (and not counted) before the load and before the start signal, so
 *     that the load does not pay for class loading, the JIT and TLS set-up; their connections stay
 *     in the client's pool
 */
public record LoadSpec(
    URI url,
    ClientKind client,
    StrategyKind kind,
    CloseStrategy strategy,
    int requests,
    int concurrency,
    Duration duration,
    Tls tls,
    Method method,
    int bodySize,
    boolean retries,
    Pacing pacing,
    Path startSignal,
    int warmup) {

  /** The longest {@link #duration()}: {@code Integer.MAX_VALUE} seconds, as {@code --duration} takes. */
  public static final Duration MAX_DURATION = Duration.ofSeconds(Integer.MAX_VALUE);

  /** Validates: nulls, counts > 0, that {@code strategy} is null exactly for naive and raw, the body. */
  public LoadSpec {
    Objects.requireNonNull(url, "url cannot be null");
    Objects.requireNonNull(client, "client cannot be null");
    Objects.requireNonNull(kind, "kind cannot be null");
    Objects.requireNonNull(method, "method cannot be null");
    Objects.requireNonNull(pacing, "pacing cannot be null");
    if (kind.withoutTimewait() != (strategy == null)) {
      throw new IllegalArgumentException("strategy must be null exactly for naive and raw, but was " + strategy
          + " for " + kind);
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
    if (duration != null && duration.compareTo(MAX_DURATION) > 0) {
      // The CLI's own bound (--duration takes an int of seconds); a longer one overflowed to an
      // ArithmeticException once the client was open, which then stayed open.
      throw new IllegalArgumentException("duration must be <= " + MAX_DURATION + ", but was " + duration);
    }
    if (bodySize < 0) {
      throw new IllegalArgumentException("bodySize must be >= 0, but was " + bodySize);
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("warmup must be >= 0, but was " + warmup);
    }
    if (method == Method.GET && bodySize != 0) {
      throw new IllegalArgumentException("a GET carries no body, but bodySize was " + bodySize);
    }
  }

  /** GETs, no retries, no pacing: what the load CLI did before it had those options. */
  public LoadSpec(URI url, ClientKind client, StrategyKind kind, CloseStrategy strategy, int requests,
      int concurrency, Duration duration, Tls tls) {
    this(url, client, kind, strategy, requests, concurrency, duration, tls, Method.GET, 0, false, Pacing.NONE, null, 0);
  }

  /** The request's method. GET is idempotent (RFC 9110 9.2.2: a client may retry it); POST is not. */
  public enum Method {
    /** A GET of the URL, reading the whole body. */
    GET,
    /** A POST of {@link LoadSpec#bodySize()} bytes to the URL, reading the whole response body. */
    POST;

    /** The method named {@code text} (case-insensitive), or IAE naming the valid ones. */
    public static Method of(String text) {
      for (Method m : values()) {
        if (m.name().equalsIgnoreCase(text)) {
          return m;
        }
      }
      throw new IllegalArgumentException("method must be GET or POST, but was " + text);
    }
  }

  /**
   * How requests are spaced. One of: none (each worker sends its next request as soon as the last
   * one ended), a rate over all workers (open loop: request {@code i} is due at {@code start + i /
   * rate}, whenever the earlier ones finish), or bursts per worker ({@code burst} requests back to
   * back, then an idle gap drawn uniformly from {@code [gapMinMs, gapMaxMs]} by a random generator
   * seeded with {@code seed}, worker {@code w} taking the {@code w}-th split of it).
   *
   * @param rate requests per second over all workers; 0 for none
   * @param burst requests per burst, per worker; 0 for none
   * @param gapMinMs the shortest idle gap after a burst, in ms
   * @param gapMaxMs the longest idle gap after a burst, in ms, at least {@code gapMinMs}
   * @param seed the seed of the gaps' random generator (meaningful with bursts only)
   */
  public record Pacing(double rate, int burst, long gapMinMs, long gapMaxMs, long seed) {
    /** No pacing. */
    public static final Pacing NONE = new Pacing(0, 0, 0, 0, 0);

    /** Validates: rate finite and >= 0, burst >= 0, not both, gaps 0 <= min <= max. */
    public Pacing {
      if (!(rate >= 0) || Double.isInfinite(rate)) {
        throw new IllegalArgumentException("rate must be finite and >= 0, but was " + rate);
      }
      if (burst < 0) {
        throw new IllegalArgumentException("burst must be >= 0, but was " + burst);
      }
      if (rate > 0 && burst > 0) {
        throw new IllegalArgumentException("pace by a rate or by bursts, not both");
      }
      if (gapMinMs < 0 || gapMaxMs < gapMinMs) {
        throw new IllegalArgumentException("idle gap must be 0 <= min <= max, but was " + gapMinMs + "-" + gapMaxMs);
      }
      if (burst == 0 && gapMaxMs != 0) {
        throw new IllegalArgumentException("an idle gap needs bursts");
      }
    }

    /** {@code rate} requests per second over all workers. */
    public static Pacing rate(double rate) {
      if (rate <= 0) {
        throw new IllegalArgumentException("rate must be > 0, but was " + rate);
      }
      return new Pacing(rate, 0, 0, 0, 0);
    }

    /** Per worker, {@code burst} requests back to back, then an idle gap in {@code [minMs, maxMs]}. */
    public static Pacing bursts(int burst, long minMs, long maxMs, long seed) {
      if (burst <= 0) {
        throw new IllegalArgumentException("burst must be > 0, but was " + burst);
      }
      return new Pacing(0, burst, minMs, maxMs, seed);
    }

    /** True when requests are paced by a rate. */
    public boolean byRate() {
      return rate > 0;
    }

    /** True when requests are paced by bursts and idle gaps. */
    public boolean byBursts() {
      return burst > 0;
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
