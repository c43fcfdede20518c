package dev.timewait.httpclient5;

import dev.timewait.PooledKeepAlive;
import dev.timewait.ResetClose;
import dev.timewait.ServerClose;
import dev.timewait.internal.NotInlined;
import dev.timewait.internal.Preconditions;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.reactor.ssl.SSLBufferMode;
import org.apache.hc.core5.ssl.SSLContexts;

/**
 * The settings of {@link TimeWaitHttpClient5} beyond the {@link dev.timewait.CloseStrategy}: the
 * TLS context, versions and cipher suites, the connection bound of the one-connection-per-request strategies, the connection
 * manager's {@link ConnectionConfig} (connect and socket timeouts), its {@link DnsResolver}, and
 * whether the async client may negotiate HTTP/2. They exist because timewait builds the
 * connection manager, where HttpClient keeps these settings. Immutable; made by {@link #builder()}.
 *
 * <pre>{@code
 * HttpClient5Options options = HttpClient5Options.builder()
 *     .sslContext(mySslContext)   // trust your servers; hostname verification stays on
 *     .tlsVersions("TLSv1.3")     // and cipherSuites(...): a Spring SSL bundle's options, say
 *     .maxConnections(200)        // for server close and reset
 *     .connectionConfig(ConnectionConfig.custom()
 *         .setConnectTimeout(Timeout.ofSeconds(2))
 *         .setSocketTimeout(Timeout.ofSeconds(10))
 *         .build())
 *     .build();
 * CloseableHttpClient client = TimeWaitHttpClient5
 *     .configure(HttpClients.custom(), CloseStrategy.serverClose(), new CloseAccounting(), options)
 *     .build();
 * }</pre>
 *
 * <p>Equal options have the same values and the same {@code SSLContext} and {@code
 * ConnectionConfig} instances: neither JDK's nor HttpClient's type compares by value, so two
 * configs built alike are different objects and make unequal options.
 *
 * <p>Thread-safe: immutable.
 */
public final class HttpClient5Options {
  /**
   * The default bound on open connections, in total and per route, for {@link ServerClose} and
   * {@link ResetClose}, which open one connection per request: 64. (A {@link
   * PooledKeepAlive} strategy brings its own {@code maxTotal} and {@code maxPerRoute}.)
   */
  public static final int DEFAULT_MAX_CONNECTIONS = NotInlined.of(64);

  /** The largest {@link Builder#maxConnections(int)}: {@link PooledKeepAlive#MAX_CONNECTIONS}. */
  public static final int MAX_CONNECTIONS = PooledKeepAlive.MAX_CONNECTIONS;

  /** Whether the async client may negotiate HTTP/2 by default: false. */
  public static final boolean DEFAULT_ALLOW_HTTP2 = NotInlined.of(false);

  /**
   * The default {@link #connectionConfig()}: HttpClient's own {@link ConnectionConfig#DEFAULT}
   * (connect timeout 3 minutes, socket timeout unset).
   */
  public static final ConnectionConfig DEFAULT_CONNECTION_CONFIG = ConnectionConfig.DEFAULT;

  // After every default above: the builder's fields start from them.
  private static final HttpClient5Options DEFAULTS = builder().build();

  private final SSLContext sslContext;
  private final int maxConnections;
  private final boolean allowHttp2;
  private final ConnectionConfig connectionConfig;
  private final List<String> tlsVersions;
  private final List<String> cipherSuites;
  private final DnsResolver dnsResolver;

  private HttpClient5Options(Builder builder) {
    this.dnsResolver = builder.dnsResolver;
    this.sslContext = builder.sslContext;
    this.tlsVersions = builder.tlsVersions;
    this.cipherSuites = builder.cipherSuites;
    this.maxConnections = builder.maxConnections;
    this.allowHttp2 = builder.allowHttp2;
    this.connectionConfig = builder.connectionConfig;
  }

  /**
   * The defaults: the JDK's default trust, {@link #DEFAULT_MAX_CONNECTIONS}, {@link
   * #DEFAULT_CONNECTION_CONFIG} and {@link #DEFAULT_ALLOW_HTTP2}.
   *
   * @return the defaults
   */
  public static HttpClient5Options defaults() {
    return DEFAULTS;
  }

  /** {@return a builder that starts from the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return a builder that starts from these options} */
  public Builder toBuilder() {
    Builder builder = new Builder().maxConnections(maxConnections).allowHttp2(allowHttp2)
        .connectionConfig(connectionConfig);
    builder.sslContext = sslContext;
    builder.tlsVersions = tlsVersions;
    builder.cipherSuites = cipherSuites;
    builder.dnsResolver = dnsResolver;
    return builder;
  }

  /**
   * The TLS context for {@code https} routes, or empty for HttpClient's default (the JDK's
   * default trust store). Hostname verification is on either way.
   *
   * @return the TLS context for {@code https} routes, or empty for HttpClient's default (the JDK's default trust store)
   */
  public Optional<SSLContext> sslContext() {
    return Optional.ofNullable(sslContext);
  }

  /**
   * The TLS versions the client offers ({@code "TLSv1.3"}, ...), or empty for the TLS context's
   * defaults.
   *
   * @return the TLS versions the client offers, or empty for the TLS context's defaults
   */
  public List<String> tlsVersions() {
    return tlsVersions;
  }

  /**
   * The cipher suites the client offers, or empty for the TLS context's defaults.
   *
   * @return the cipher suites the client offers, or empty for the TLS context's defaults
   */
  public List<String> cipherSuites() {
    return cipherSuites;
  }

  /**
   * HttpClient's TLS strategy for these options (classic and async take the same one): as {@code
   * new DefaultClientTlsStrategy(sslContext)} or {@code createDefault()} did, with the versions
   * and suites, if any, in place of the context's defaults (without a context: the default one,
   * {@code SSLContexts.createDefault()}, as {@code createDefault()} takes). The constructor taking
   * them passes no hostname verifier, as the one-argument one does (read in 5.5.2's and 5.6.5's
   * bytecode), so the host name is verified as with a context alone.
   */
  DefaultClientTlsStrategy tlsStrategy() {
    if (tlsVersions.isEmpty() && cipherSuites.isEmpty()) {
      return sslContext != null
          ? new DefaultClientTlsStrategy(sslContext)
          : DefaultClientTlsStrategy.createDefault();
    }
    return new DefaultClientTlsStrategy(sslContext != null ? sslContext : SSLContexts.createDefault(),
        tlsVersions.isEmpty() ? null : tlsVersions.toArray(new String[0]),
        cipherSuites.isEmpty() ? null : cipherSuites.toArray(new String[0]),
        SSLBufferMode.STATIC, null);
  }

  /**
   * The resolver of host names for both clients' connection managers, or empty for HttpClient's
   * default ({@code SystemDefaultDnsResolver}, the JVM's {@code InetAddress} lookup).
   *
   * @return the resolver, or empty for HttpClient's default
   */
  public Optional<DnsResolver> dnsResolver() {
    return Optional.ofNullable(dnsResolver);
  }

  /** {@return the bound on open connections, total and per route, for server close and reset} */
  public int maxConnections() {
    return maxConnections;
  }

  /**
   * The connection manager's default {@link ConnectionConfig}, for the classic and the async
   * client: its connect timeout, socket timeout and validate-after-inactivity apply as HttpClient
   * documents them. Under a {@link PooledKeepAlive} strategy, the strategy's {@code idleTimeout}
   * replaces its idle timeout, and its time-to-live is cleared: the strategy's {@code
   * maxLifetime} retires a connection with its next request instead (with HTTP/2 allowed, it is
   * the time-to-live), so that the pool retires connections as the strategy says.
   *
   * @return the connection manager's default {@link ConnectionConfig}, for the classic and the async client
   */
  public ConnectionConfig connectionConfig() {
    return connectionConfig;
  }

  /**
   * Whether the async client may negotiate HTTP/2 over TLS (ALPN). Only a {@link PooledKeepAlive}
   * strategy with {@link dev.timewait.Retirement#RESET} retirement allows it; HTTP/2 has no
   * {@code Connection: close}, so server close cannot be asked for. The classic client speaks
   * HTTP/1.1 only, but refuses the setting for the same strategies, so that one options object
   * gets the same answer from both clients.
   *
   * @return whether the async client may negotiate HTTP/2 over TLS (ALPN)
   */
  public boolean allowHttp2() {
    return allowHttp2;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof HttpClient5Options)) {
      return false;
    }
    HttpClient5Options other = (HttpClient5Options) o;
    return maxConnections == other.maxConnections
        && allowHttp2 == other.allowHttp2
        && Objects.equals(sslContext, other.sslContext)
        && tlsVersions.equals(other.tlsVersions)
        && cipherSuites.equals(other.cipherSuites)
        && Objects.equals(dnsResolver, other.dnsResolver)
        && connectionConfig == other.connectionConfig; // ConnectionConfig has no equals of its own
  }

  @Override
  public int hashCode() {
    return Objects.hash(sslContext, tlsVersions, cipherSuites, maxConnections, allowHttp2,
        dnsResolver, System.identityHashCode(connectionConfig));
  }

  @Override
  public String toString() {
    return "HttpClient5Options[sslContext=" + (sslContext == null ? "default" : sslContext.getProtocol())
        + ", tlsVersions=" + (tlsVersions.isEmpty() ? "default" : tlsVersions)
        + ", cipherSuites=" + (cipherSuites.isEmpty() ? "default" : cipherSuites.size() + " suites")
        + ", maxConnections=" + maxConnections + ", allowHttp2=" + allowHttp2
        + ", connectionConfig=" + connectionConfig
        + ", dnsResolver=" + (dnsResolver == null ? "default" : dnsResolver) + "]";
  }

  /** Builds {@link HttpClient5Options}. Not thread-safe: use one builder from one thread. */
  public static final class Builder {
    private SSLContext sslContext;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private boolean allowHttp2 = DEFAULT_ALLOW_HTTP2;
    private ConnectionConfig connectionConfig = DEFAULT_CONNECTION_CONFIG;
    private List<String> tlsVersions = List.of();
    private List<String> cipherSuites = List.of();
    private DnsResolver dnsResolver;

    private Builder() {}

    /**
     * The resolver of host names (a service registry's, or one that pins names in tests), for
     * both clients: timewait builds the connection manager, where HttpClient takes it. None:
     * HttpClient's default, the JVM's lookup, the default.
     *
     * @param dnsResolver the resolver
     * @return this builder
     */
    public Builder dnsResolver(DnsResolver dnsResolver) {
      this.dnsResolver = Preconditions.checkNotNull(dnsResolver, "dnsResolver");
      return this;
    }

    /**
     * See {@link HttpClient5Options#connectionConfig()}; default {@link
     * #DEFAULT_CONNECTION_CONFIG}.
     *
     * @param connectionConfig the timeouts and lifetimes
     * @return this builder
     */
    public Builder connectionConfig(ConnectionConfig connectionConfig) {
      this.connectionConfig = Preconditions.checkNotNull(connectionConfig, "connectionConfig");
      return this;
    }

    /**
     * The TLS context for {@code https} routes; hostname verification stays on.
     *
     * @param sslContext the TLS context for https connections
     * @return this builder
     */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = Preconditions.checkNotNull(sslContext, "sslContext");
      return this;
    }

    /**
     * The TLS versions the client offers, in place of the TLS context's defaults (a Spring SSL
     * bundle's {@code getOptions().getEnabledProtocols()}, say; Spring's own client factories
     * apply them, and with a context from {@code createSslContext()} alone they were lost). None:
     * the context's defaults, the default.
     *
     * @param versions the TLS versions, such as {@code "TLSv1.3"}
     * @return this builder
     */
    public Builder tlsVersions(String... versions) {
      this.tlsVersions = names(versions, "tlsVersions");
      return this;
    }

    /**
     * The cipher suites the client offers, in place of the TLS context's defaults (a Spring SSL
     * bundle's {@code getOptions().getCiphers()}, say). None: the context's defaults, the default.
     *
     * @param suites the cipher suites, such as {@code "TLS_AES_128_GCM_SHA256"}
     * @return this builder
     */
    public Builder cipherSuites(String... suites) {
      this.cipherSuites = names(suites, "cipherSuites");
      return this;
    }

    private static List<String> names(String[] names, String field) {
      Preconditions.checkNotNull(names, field);
      for (String name : names) {
        if (name == null || name.isBlank()) {
          throw new IllegalArgumentException(field + " must hold names, but held \"" + name + "\"");
        }
      }
      return List.of(names);
    }

    /**
     * The bound on open connections, total and per route, for server close and reset: 1 to
     * {@link #MAX_CONNECTIONS}; default {@link #DEFAULT_MAX_CONNECTIONS}.
     *
     * @param maxConnections the bound, total and per route
     * @return this builder
     */
    public Builder maxConnections(int maxConnections) {
      Preconditions.checkPositive(maxConnections, "maxConnections");
      this.maxConnections = Preconditions.checkAtMost(maxConnections, MAX_CONNECTIONS, "maxConnections");
      return this;
    }

    /**
     * See {@link HttpClient5Options#allowHttp2()}; default {@link #DEFAULT_ALLOW_HTTP2}.
     *
     * @param allowHttp2 whether HTTP/2 may be negotiated
     * @return this builder
     */
    public Builder allowHttp2(boolean allowHttp2) {
      this.allowHttp2 = allowHttp2;
      return this;
    }

    /** {@return the options, which later changes to this builder do not affect} */
    public HttpClient5Options build() {
      return new HttpClient5Options(this);
    }
  }
}
