package dev.timewait.benchmarks;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.httpclient5.HttpClient5Options;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import dev.timewait.okhttp.TimeWaitOkHttp;
import dev.timewait.reactornetty.TimeWaitReactorNetty;
import dev.timewait.testing.ContractClient;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import kotlin.jvm.JvmClassMappingKt;
import kotlin.jvm.functions.Function0;
import kotlin.reflect.KClass;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.ConnectionPool;
import okhttp3.EventListener;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import io.netty.channel.ChannelOption;
import okio.Okio;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.DefaultClientConnectionReuseStrategy;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ConnectionReuseStrategy;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.protocol.HttpCoreContext;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpProtocol;
import reactor.netty.resources.ConnectionProvider;

/**
 * One client as a benchmark leg drives it: a GET whose whole body is read. {@link #of} builds each
 * {@link Variant} for each {@link Library}: timewait's strategies through the adapters' public
 * API, and the hand-configured raw clients they are compared with. Every client has automatic
 * retries off and the same timeouts.
 *
 * <p>Thread-safe: {@link #get} is called from many threads at once.
 */
interface BenchClient extends ContractClient {
  Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);

  /** Sends {@code GET uri}, reads the whole body, and returns the status code. */
  @Override
  int get(URI uri) throws Exception;

  /** None: the harness measures the exchanges, it does not count how connections closed. */
  @Override
  default CloseStats stats() {
    return null;
  }

  @Override
  void close();

  /**
   * Closes the client's idle pooled connections, if what it keeps idle makes work for another
   * client in the same JVM; by default nothing. The client-cost measure calls it on both clients
   * before each of its segments ({@link Allocation#pairedCost}).
   */
  default void closeIdle() {}

  /** The HTTP client library. */
  enum Library {
    HC5("hc5"), HC5_ASYNC("hc5-async"), OKHTTP("okhttp"), REACTOR_NETTY("reactor-netty");

    final String label;

    Library(String label) {
      this.label = label;
    }
  }

  /** What is configured. */
  enum Variant {
    /** timewait pooled keep-alive, {@code maxTotal} = {@code maxPerRoute} = the pool size, other settings default. */
    LIB_POOLED("timewait pooled"),
    /**
     * timewait pooled keep-alive as {@link #LIB_POOLED}, with a cap of {@value Capped#CAP} requests
     * per connection (the default before 0.1.0): compared with {@link #RAW_POOLED_CAPPED}.
     */
    LIB_POOLED_CAPPED("timewait pooled, cap 500"),
    /**
     * {@link #LIB_POOLED} without the reuse check and without the unanswered-request retry:
     * {@code staleCheckAfterIdle(MAX_DURATION)} (a connection is checked only after 24 h idle, i.e.
     * never; HttpClient 5's own {@code validateAfterInactivity} follows it) and {@code
     * retryUnanswered(false)} (no retry interceptor). The socket layer's per-read/write bookkeeping
     * for pooled connections is the same as {@link #LIB_POOLED}'s.
     */
    LIB_POOLED_NO_CHECK("timewait pooled, no reuse check, no retry"),
    /**
     * HttpClient 5 only, a diagnostic: {@link #LIB_POOLED} with HttpClient's own {@code
     * validateAfterInactivity} turned off by the user (-1), so that only the socket layer's check
     * (classic: {@code TimeWaitSocket.isClosed()}, which the JDK's socket methods ask) runs; the
     * async client then sends no stale check at all.
     */
    LIB_POOLED_OWN_CHECK_OFF("timewait pooled, HttpClient's own check off"),
    /**
     * {@link #LIB_POOLED} without the request cap ({@code maxRequestsPerConnection} =
     * {@code Integer.MAX_VALUE}): a diagnostic that takes the cap's retirements out of the adapter's
     * overhead, for comparison with {@link #RAW_POOLED}, which has none.
     */
    LIB_POOLED_NO_CAP("timewait pooled, no request cap"),
    /** timewait server close (default 2 s FIN wait). */
    LIB_SERVER_CLOSE("timewait server-close"),
    /** timewait reset close. */
    LIB_RESET("timewait reset"),
    /** The library's own pooling client, pool bounded by hand to the same size: no timewait. */
    RAW_POOLED("raw pooled"),
    /**
     * {@link #RAW_POOLED} with the cap of {@link #LIB_POOLED_CAPPED} ({@value Capped#CAP} requests per
     * connection) written by hand: HttpClient's reuse
     * strategy refuses a connection that carried that many requests (it then closes it with an
     * RST, as timewait's RESET retirement does); OkHttp's network interceptor sends {@code
     * Connection: close} on a connection's last request. The same policy as {@link
     * #LIB_POOLED_CAPPED}, without timewait.
     */
    RAW_POOLED_CAPPED("raw pooled, cap 500 by hand"),
    /**
     * Reactor Netty only, a diagnostic: {@link #RAW_POOLED} with the default request cap of {@link
     * #LIB_POOLED} (10,000) written by hand as an eviction predicate (with Reactor Netty's own rule
     * that a closed or non-persistent connection goes): what the cap's retirements cost the raw
     * client itself.
     */
    RAW_POOLED_DEFAULT_CAP("raw pooled, cap 10,000 by hand"),
    /**
     * OkHttp only, a control: {@link #RAW_POOLED} with an application and a network interceptor
     * that only proceed: what OkHttp's interceptor chain itself costs per call.
     */
    RAW_POOLED_NOOP_INTERCEPTORS("raw pooled, two no-op interceptors"),
    /**
     * OkHttp only, a control: {@link #RAW_POOLED} using OkHttp's public hooks as timewait's pooled
     * configuration does, without timewait: an application interceptor that gives each call one
     * tag object ({@code Call.tag(KClass, factory)}) and one shared listener ({@code
     * Call.addEventListener}) whose {@code callEnd}/{@code callFailed} read the tag back, and a
     * network interceptor that reads the connection's socket and proceeds. What those hooks cost
     * OkHttp itself, apart from anything timewait decides.
     */
    RAW_POOLED_HOOKS("raw pooled, OkHttp's hooks by hand"),
    /**
     * The raw client sending {@code Connection: close} on every request itself: on its pool
     * (HttpClient 5, OkHttp), or on none for Reactor Netty, as timewait's server close there.
     */
    RAW_CONNECTION_CLOSE("raw Connection: close"),
    /** One shared raw client with keep-alive off: the client closes each connection after its response. */
    NAIVE_SHARED("naive (shared client, no keep-alive)"),
    /** What load harnesses do today: a new default client per request, closed after it. */
    NAIVE_NEW_CLIENT("naive (new client per request)");

    final String label;

    Variant(String label) {
      this.label = label;
    }

    /** Whether the variant opens a connection per request. */
    boolean perConnection() {
      return this != LIB_POOLED && this != LIB_POOLED_CAPPED && this != LIB_POOLED_NO_CHECK
          && this != LIB_POOLED_OWN_CHECK_OFF && this != LIB_POOLED_NO_CAP && this != RAW_POOLED
          && this != RAW_POOLED_CAPPED && this != RAW_POOLED_DEFAULT_CAP
          && this != RAW_POOLED_NOOP_INTERCEPTORS && this != RAW_POOLED_HOOKS;
    }
  }

  static BenchClient of(Library library, Variant variant, int poolSize) {
    CloseStrategy strategy = switch (variant) {
      case LIB_POOLED, LIB_POOLED_OWN_CHECK_OFF ->
          PooledKeepAlive.builder().maxTotal(poolSize).maxPerRoute(poolSize).build();
      case LIB_POOLED_CAPPED -> PooledKeepAlive.builder().maxTotal(poolSize).maxPerRoute(poolSize)
          .maxRequestsPerConnection(Capped.CAP).build();
      case LIB_POOLED_NO_CHECK -> PooledKeepAlive.builder().maxTotal(poolSize).maxPerRoute(poolSize)
          .staleCheckAfterIdle(PooledKeepAlive.MAX_DURATION).retryUnanswered(false).build();
      case LIB_POOLED_NO_CAP -> PooledKeepAlive.builder().maxTotal(poolSize).maxPerRoute(poolSize)
          .maxRequestsPerConnection(Integer.MAX_VALUE).build();
      case LIB_SERVER_CLOSE -> CloseStrategy.serverClose();
      case LIB_RESET -> CloseStrategy.reset();
      default -> null;
    };
    boolean connectionClose = variant == Variant.RAW_CONNECTION_CLOSE;
    return switch (library) {
      case HC5 -> switch (variant) {
        case RAW_POOLED_DEFAULT_CAP -> throw new IllegalArgumentException(variant.label + ": Reactor Netty only");
        case RAW_POOLED_NOOP_INTERCEPTORS, RAW_POOLED_HOOKS ->
            throw new IllegalArgumentException(variant.label + ": OkHttp only");
        case LIB_POOLED, LIB_POOLED_CAPPED, LIB_POOLED_NO_CHECK, LIB_POOLED_NO_CAP, LIB_SERVER_CLOSE, LIB_RESET ->
            hc5Timewait(false, strategy);
        case LIB_POOLED_OWN_CHECK_OFF -> new Hc5(
            TimeWaitHttpClient5.configure(hc5(), strategy, new CloseAccounting(), ownCheckOff()).build(), false);
        case RAW_POOLED, RAW_CONNECTION_CLOSE -> new Hc5(rawHc5(poolSize).build(), connectionClose);
        case RAW_POOLED_CAPPED -> hc5CappedByHand(false, poolSize, Capped.CAP);
        case NAIVE_SHARED -> new Hc5(
            rawHc5(poolSize).setConnectionReuseStrategy((request, response, context) -> false).build(), false);
        case NAIVE_NEW_CLIENT -> new Naive(() -> new Hc5(rawHc5(poolSize).build(), false));
      };
      case HC5_ASYNC -> switch (variant) {
        case RAW_POOLED_DEFAULT_CAP -> throw new IllegalArgumentException(variant.label + ": Reactor Netty only");
        case RAW_POOLED_NOOP_INTERCEPTORS, RAW_POOLED_HOOKS ->
            throw new IllegalArgumentException(variant.label + ": OkHttp only");
        case LIB_POOLED, LIB_POOLED_CAPPED, LIB_POOLED_NO_CHECK, LIB_POOLED_NO_CAP, LIB_SERVER_CLOSE, LIB_RESET ->
            hc5Timewait(true, strategy);
        case LIB_POOLED_OWN_CHECK_OFF -> new Hc5Async(
            TimeWaitHttpClient5.configure(hc5Async(), strategy, new CloseAccounting(), ownCheckOff()).build(), false);
        case RAW_POOLED, RAW_CONNECTION_CLOSE -> new Hc5Async(rawHc5Async(poolSize).build(), connectionClose);
        case RAW_POOLED_CAPPED -> hc5CappedByHand(true, poolSize, Capped.CAP);
        case NAIVE_SHARED -> new Hc5Async(
            rawHc5Async(poolSize).setConnectionReuseStrategy((request, response, context) -> false).build(), false);
        case NAIVE_NEW_CLIENT -> new Naive(() -> new Hc5Async(rawHc5Async(poolSize).build(), false));
      };
      case OKHTTP -> switch (variant) {
        case RAW_POOLED_DEFAULT_CAP -> throw new IllegalArgumentException(variant.label + ": Reactor Netty only");
        case RAW_POOLED_NOOP_INTERCEPTORS -> new OkHttp(okHttp()
            .connectionPool(new ConnectionPool(poolSize, 5, TimeUnit.MINUTES))
            .addInterceptor(Hooks.PROCEED)
            .addNetworkInterceptor(Hooks.PROCEED)
            .build(), false);
        case RAW_POOLED_HOOKS -> new OkHttp(okHttp()
            .connectionPool(new ConnectionPool(poolSize, 5, TimeUnit.MINUTES))
            .addInterceptor(new Hooks.TagAndListener())
            .addNetworkInterceptor(Hooks.SOCKET)
            .build(), false);
        case LIB_POOLED, LIB_POOLED_CAPPED, LIB_POOLED_NO_CHECK, LIB_POOLED_NO_CAP, LIB_SERVER_CLOSE, LIB_RESET ->
            okHttpTimewait(strategy);
        case LIB_POOLED_OWN_CHECK_OFF -> throw new IllegalArgumentException(variant.label + ": HttpClient 5 only");
        case RAW_POOLED, RAW_CONNECTION_CLOSE ->
            new OkHttp(okHttp().connectionPool(new ConnectionPool(poolSize, 5, TimeUnit.MINUTES)).build(),
                connectionClose);
        case RAW_POOLED_CAPPED -> okHttpCappedByHand(poolSize, Capped.CAP);
        // No idle connection kept: OkHttp closes each connection when its call releases it.
        case NAIVE_SHARED ->
            new OkHttp(okHttp().connectionPool(new ConnectionPool(0, 5, TimeUnit.MINUTES)).build(), false);
        case NAIVE_NEW_CLIENT -> new Naive(() -> new OkHttp(okHttp().build(), false));
      };
      case REACTOR_NETTY -> switch (variant) {
        case LIB_POOLED, LIB_POOLED_CAPPED, LIB_POOLED_NO_CHECK, LIB_POOLED_NO_CAP, LIB_SERVER_CLOSE, LIB_RESET ->
            reactorNettyTimewait(strategy);
        case LIB_POOLED_OWN_CHECK_OFF -> throw new IllegalArgumentException(variant.label + ": HttpClient 5 only");
        case RAW_POOLED -> {
          ConnectionProvider provider = ConnectionProvider.builder("raw").maxConnections(poolSize).build();
          yield new ReactorNetty(reactorNetty(provider), provider, false, false);
        }
        // Without a pool, as timewait's server close (ConnectionProvider.newConnection()): on a
        // pool of its own the raw side paid an acquire, a release and an invalidation per request
        // that timewait's side did not, and pair 2 read 1.08-1.09 where like for like reads 0.90
        // (session 40, docs/benchmarks.md).
        case RAW_CONNECTION_CLOSE ->
            new ReactorNetty(reactorNetty(ConnectionProvider.newConnection()), null, false, true);
        case RAW_POOLED_CAPPED -> reactorNettyCappedByHand("raw-capped", poolSize, Capped.CAP);
        case RAW_POOLED_DEFAULT_CAP -> reactorNettyCappedByHand("raw-default-cap", poolSize,
            PooledKeepAlive.DEFAULT_MAX_REQUESTS_PER_CONNECTION);
        case RAW_POOLED_NOOP_INTERCEPTORS, RAW_POOLED_HOOKS ->
            throw new IllegalArgumentException(variant.label + ": OkHttp only");
        // No pool: Reactor Netty closes each connection after its exchange.
        case NAIVE_SHARED -> new ReactorNetty(reactorNetty(ConnectionProvider.newConnection()), null, false, false);
        case NAIVE_NEW_CLIENT -> new Naive(() -> {
          ConnectionProvider provider = ConnectionProvider.create("naive", 1);
          return new ReactorNetty(reactorNetty(provider), provider, false, false);
        });
      };
    };
  }

  /**
   * {@link Variant#NAIVE_SHARED} whose every close is an RST, as timewait's reset, written by hand
   * through the library's public hooks, with nothing else of timewait's: HttpClient 5 async, an I/O
   * session decorator that closes every session IMMEDIATE (HttpCore then sets SO_LINGER(0) and
   * closes; {@code IOReactorConfig.setSoLinger(0)} is not enough, as HttpCore's graceful close
   * shuts the output down first, a FIN); OkHttp, a socket factory whose sockets have SO_LINGER(0).
   * Not for HttpClient 5 classic, whose naive client already closes with an RST, nor Reactor
   * Netty ({@link ResetParts} sets it as timewait does, at channel init).
   */
  static BenchClient naiveSharedWithRst(Library library, int poolSize) {
    return switch (library) {
      case HC5_ASYNC -> new Hc5Async(rawHc5Async(poolSize)
          .setIoSessionDecorator(ImmediateCloseSession::new)
          .setConnectionReuseStrategy((request, response, context) -> false).build(), false);
      case OKHTTP -> new OkHttp(okHttp().connectionPool(new ConnectionPool(0, 5, TimeUnit.MINUTES))
          .socketFactory(new LingerZeroSocketFactory()).build(), false);
      default -> throw new IllegalArgumentException(library.label + ": no naive client with an RST by hand");
    };
  }

  /** Plain sockets with SO_LINGER(0) from creation, for {@link #naiveSharedWithRst}. */
  final class LingerZeroSocketFactory extends javax.net.SocketFactory {
    @Override
    public java.net.Socket createSocket() throws IOException {
      java.net.Socket socket = new java.net.Socket();
      socket.setSoLinger(true, 0);
      return socket;
    }

    // OkHttp creates unconnected sockets only (createSocket()); these are the abstract rest.
    @Override
    public java.net.Socket createSocket(String host, int port) {
      throw new UnsupportedOperationException("unconnected sockets only");
    }

    @Override
    public java.net.Socket createSocket(String host, int port, java.net.InetAddress local, int localPort) {
      throw new UnsupportedOperationException("unconnected sockets only");
    }

    @Override
    public java.net.Socket createSocket(java.net.InetAddress host, int port) {
      throw new UnsupportedOperationException("unconnected sockets only");
    }

    @Override
    public java.net.Socket createSocket(java.net.InetAddress address, int port, java.net.InetAddress local, int localPort) {
      throw new UnsupportedOperationException("unconnected sockets only");
    }
  }

  /** HttpClient 5, classic or async, configured by timewait for {@code strategy}. */
  static BenchClient hc5Timewait(boolean async, CloseStrategy strategy) {
    return async ? new Hc5Async(TimeWaitHttpClient5.configure(hc5Async(), strategy).build(), false)
        : new Hc5(TimeWaitHttpClient5.configure(hc5(), strategy).build(), false);
  }

  /**
   * Raw HttpClient 5, classic or async, with a cap of {@code cap} requests per connection written
   * by hand as a {@code ConnectionReuseStrategy}, the public hook a user would write it with.
   */
  static BenchClient hc5CappedByHand(boolean async, int poolSize, int cap) {
    return async
        ? new Hc5Async(rawHc5Async(poolSize).setConnectionReuseStrategy(Capped.hc5Async(cap)).build(), false)
        : new Hc5(rawHc5(poolSize).setConnectionReuseStrategy(Capped.hc5(cap)).build(), false);
  }

  /**
   * Raw OkHttp with a cap of {@code cap} requests per connection written by hand as a network
   * interceptor that sends {@code Connection: close} on a connection's last request.
   */
  static BenchClient okHttpCappedByHand(int poolSize, int cap) {
    return new OkHttp(okHttp()
        .connectionPool(new ConnectionPool(poolSize, 5, TimeUnit.MINUTES))
        .addNetworkInterceptor(new Capped.OkHttpCap(cap))
        .build(), false);
  }

  /** OkHttp configured by timewait for {@code strategy}. */
  static BenchClient okHttpTimewait(CloseStrategy strategy) {
    return new OkHttp(TimeWaitOkHttp.configure(okHttp(), strategy).build(), false);
  }

  /** Reactor Netty configured by timewait for {@code strategy}, on the provider timewait builds for it. */
  static ReactorNetty reactorNettyTimewait(CloseStrategy strategy) {
    ConnectionProvider provider = TimeWaitReactorNetty.connectionProvider("bench", strategy);
    return new ReactorNetty(TimeWaitReactorNetty.configure(reactorNetty(provider), strategy), null, true, false);
  }

  /**
   * Raw Reactor Netty with a cap of {@code cap} requests per connection written by hand: its
   * eviction predicate sees each connection's acquire count (when it is acquired or released), the
   * public hook a user would write it with. A custom predicate replaces Reactor Netty's own, so it
   * keeps that rule too (a closed or non-persistent connection goes).
   */
  static ReactorNetty reactorNettyCappedByHand(String name, int poolSize, int cap) {
    ConnectionProvider provider = ConnectionProvider.builder(name).maxConnections(poolSize)
        .evictionPredicate((connection, metadata) -> !connection.channel().isActive()
            || !connection.isPersistent() || metadata.acquireCount() >= cap)
        .build();
    return new ReactorNetty(reactorNetty(provider), provider, false, false);
  }

  /** Reactor Netty on {@code provider}, HTTP/1.1, the same timeouts as the others, no retry. */
  static reactor.netty.http.client.HttpClient reactorNetty(ConnectionProvider provider) {
    return reactor.netty.http.client.HttpClient.create(provider)
        .protocol(HttpProtocol.HTTP11)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
        .responseTimeout(RESPONSE_TIMEOUT)
        .disableRetry(true);
  }

  /** HttpClient's defaults with its own stale check ({@code validateAfterInactivity}) off. */
  private static HttpClient5Options ownCheckOff() {
    return HttpClient5Options.builder()
        .connectionConfig(ConnectionConfig.copy(HttpClient5Options.DEFAULT_CONNECTION_CONFIG)
            .setValidateAfterInactivity(TimeValue.NEG_ONE_MILLISECOND)
            .build())
        .build();
  }

  private static RequestConfig requestConfig() {
    return RequestConfig.custom()
        .setConnectionRequestTimeout(Timeout.of(CONNECT_TIMEOUT.plus(RESPONSE_TIMEOUT)))
        .setResponseTimeout(Timeout.of(RESPONSE_TIMEOUT))
        .build();
  }

  private static ConnectionConfig connectionConfig() {
    return ConnectionConfig.custom()
        .setConnectTimeout(Timeout.of(CONNECT_TIMEOUT))
        .setSocketTimeout(Timeout.of(RESPONSE_TIMEOUT))
        .build();
  }

  private static HttpClientBuilder hc5() {
    return HttpClients.custom().disableAutomaticRetries().setDefaultRequestConfig(requestConfig());
  }

  private static HttpAsyncClientBuilder hc5Async() {
    return HttpAsyncClients.custom().disableAutomaticRetries().setDefaultRequestConfig(requestConfig());
  }

  private static HttpClientBuilder rawHc5(int poolSize) {
    return hc5().setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
        .setDefaultConnectionConfig(connectionConfig())
        .setMaxConnTotal(poolSize)
        .setMaxConnPerRoute(poolSize)
        .build());
  }

  private static HttpAsyncClientBuilder rawHc5Async(int poolSize) {
    return hc5Async().setConnectionManager(PoolingAsyncClientConnectionManagerBuilder.create()
        .setDefaultConnectionConfig(connectionConfig())
        .setMaxConnTotal(poolSize)
        .setMaxConnPerRoute(poolSize)
        .build());
  }

  private static OkHttpClient.Builder okHttp() {
    return new OkHttpClient.Builder()
        .retryOnConnectionFailure(false)
        .connectTimeout(CONNECT_TIMEOUT)
        .readTimeout(RESPONSE_TIMEOUT)
        .callTimeout(CONNECT_TIMEOUT.plus(RESPONSE_TIMEOUT));
  }

  /** The hand-written cap of {@link Variant#RAW_POOLED_CAPPED}. */
  final class Capped {
    static final int CAP = 500;

    private Capped() {}

    /** Classic, at most {@code cap} requests per connection: HttpCore counts each request once. */
    static ConnectionReuseStrategy hc5(int cap) {
      return (request, response, context) ->
          DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context)
              && HttpCoreContext.castOrCreate(context).getEndpointDetails().getRequestCount() < cap;
    }

    /**
     * Async, at most {@code cap} requests per connection: HttpCore 5.4's HTTP/1.1 duplexer counts
     * a request when it goes out and again when its response comes in, so a connection that carried
     * n requests shows 2n - 1 when asked here.
     */
    static ConnectionReuseStrategy hc5Async(int cap) {
      return (request, response, context) ->
          DefaultClientConnectionReuseStrategy.INSTANCE.keepAlive(request, response, context)
              && (HttpCoreContext.castOrCreate(context).getEndpointDetails().getRequestCount() + 1) / 2 < cap;
    }

    /**
     * OkHttp, at most {@code cap} requests per connection: counts each connection's requests and
     * asks the server to close on the last one.
     */
    static final class OkHttpCap implements Interceptor {
      private final Map<Connection, AtomicInteger> requests = Collections.synchronizedMap(new WeakHashMap<>());
      private final int cap;

      OkHttpCap(int cap) {
        this.cap = cap;
      }

      @Override
      public Response intercept(Chain chain) throws IOException {
        int n = requests.computeIfAbsent(chain.connection(), c -> new AtomicInteger()).incrementAndGet();
        Request request = chain.request();
        if (n >= cap) {
          request = request.newBuilder().header("Connection", "close").build();
        }
        return chain.proceed(request);
      }
    }
  }

  /**
   * The OkHttp hooks of {@link Variant#RAW_POOLED_NOOP_INTERCEPTORS} and {@link
   * Variant#RAW_POOLED_HOOKS}: OkHttp's public extension points as timewait's pooled configuration
   * uses them, each doing nothing of its own.
   */
  final class Hooks {
    /** Proceeds, nothing else. */
    static final Interceptor PROCEED = chain -> chain.proceed(chain.request());

    /** Reads the connection's socket (as timewait's network interceptor does) and proceeds. */
    static final Interceptor SOCKET = chain -> {
      Connection connection = chain.connection();
      if (connection != null && connection.socket() == null) {
        throw new IllegalStateException("no socket"); // never: keeps the read from being elided
      }
      return chain.proceed(chain.request());
    };

    private Hooks() {}

    /** One object per call, the call's tag and its own tag factory. */
    static final class CallTag implements Function0<CallTag> {
      volatile boolean ended;

      @Override
      public CallTag invoke() {
        return this;
      }
    }

    /**
     * Tags each call with a {@link CallTag} (the key made once, as timewait does) and adds one
     * shared listener that marks the tag ended at the call's end.
     */
    static final class TagAndListener implements Interceptor {
      private static final KClass<CallTag> KEY = JvmClassMappingKt.getKotlinClass(CallTag.class);
      private final EventListener ends = new EventListener() {
        @Override
        public void callEnd(Call call) {
          end(call);
        }

        @Override
        public void callFailed(Call call, IOException ioe) {
          end(call);
        }
      };

      private static void end(Call call) {
        CallTag tag = call.tag(KEY);
        if (tag != null) {
          tag.ended = true;
        }
      }

      @Override
      public Response intercept(Chain chain) throws IOException {
        Call call = chain.call();
        CallTag fresh = new CallTag();
        if (call.tag(KEY, fresh) == fresh) {
          call.addEventListener(ends);
        }
        return chain.proceed(chain.request());
      }
    }
  }

  /** HttpClient 5 classic. */
  final class Hc5 implements BenchClient {
    private final CloseableHttpClient client;
    private final boolean connectionClose;

    Hc5(CloseableHttpClient client, boolean connectionClose) {
      this.client = client;
      this.connectionClose = connectionClose;
    }

    @Override
    public int get(URI uri) throws IOException {
      HttpGet get = new HttpGet(uri);
      if (connectionClose) {
        get.setHeader(HttpHeaders.CONNECTION, "close");
      }
      return client.execute(get, response -> {
        EntityUtils.consume(response.getEntity());
        return response.getCode();
      });
    }

    @Override
    public void close() {
      client.close(CloseMode.GRACEFUL);
    }
  }

  /** HttpClient 5 async, waited on by the calling thread; the response is buffered whole. */
  final class Hc5Async implements BenchClient {
    private final CloseableHttpAsyncClient client;
    private final boolean connectionClose;

    Hc5Async(CloseableHttpAsyncClient client, boolean connectionClose) {
      this.client = client;
      this.connectionClose = connectionClose;
      client.start();
    }

    @Override
    public int get(URI uri) throws Exception {
      SimpleHttpRequest request = SimpleRequestBuilder.get(uri).build();
      if (connectionClose) {
        request.setHeader(HttpHeaders.CONNECTION, "close");
      }
      Future<SimpleHttpResponse> future = client.execute(request, null);
      try {
        return future.get(CONNECT_TIMEOUT.plus(RESPONSE_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS).getCode();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
    }

    @Override
    public void close() {
      client.close(CloseMode.GRACEFUL);
    }
  }

  /** OkHttp; close shuts its dispatcher and closes its idle connections. */
  final class OkHttp implements BenchClient {
    private final OkHttpClient client;
    private final boolean connectionClose;

    OkHttp(OkHttpClient client, boolean connectionClose) {
      this.client = client;
      this.connectionClose = connectionClose;
    }

    @Override
    public int get(URI uri) throws IOException {
      Request.Builder request = new Request.Builder().url(uri.toString());
      if (connectionClose) {
        request.header("Connection", "close");
      }
      try (Response response = client.newCall(request.build()).execute()) {
        response.body().source().readAll(Okio.blackhole());
        return response.code();
      }
    }

    @Override
    public void close() {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }

    /**
     * OkHttp's task runner is one per JVM (its {@code TaskRunner.INSTANCE}): while another pool
     * holds an idle connection, its cleanup task waits in the runner's ready queues, and each run
     * of this client's cleanup (scheduled at every release of a connection) then starts a second
     * runner thread (OkHttp 5.x {@code TaskRunner.awaitTaskToRun}); about 10 µs of CPU per request
     * more on 2 cores. Emptying the pool takes its cleanup out of the runner.
     */
    @Override
    public void closeIdle() {
      client.connectionPool().evictAll();
    }
  }

  /**
   * Reactor Netty, blocked on by the calling thread; the body is read whole and released. Close:
   * timewait's shutdown for a configured client, else the dispose of the provider it was given
   * (none for {@code newConnection()}, which pools nothing).
   */
  final class ReactorNetty implements BenchClient {
    private final reactor.netty.http.client.HttpClient client;
    private final ConnectionProvider rawProvider;
    private final boolean configured;

    ReactorNetty(reactor.netty.http.client.HttpClient client, ConnectionProvider rawProvider,
        boolean configured, boolean connectionClose) {
      this.client = connectionClose ? client.headers(h -> h.set("Connection", "close")) : client;
      this.rawProvider = rawProvider;
      this.configured = configured;
    }

    @Override
    public int get(URI uri) throws IOException {
      Integer status = client.get().uri(uri)
          .responseSingle((response, body) -> body.then(Mono.just(response.status().code())))
          .block(CONNECT_TIMEOUT.plus(RESPONSE_TIMEOUT));
      if (status == null) {
        throw new IOException("no response");
      }
      return status;
    }

    @Override
    public void close() {
      if (configured) {
        TimeWaitReactorNetty.shutdown(client);
      } else if (rawProvider != null) {
        rawProvider.disposeLater().block(CONNECT_TIMEOUT);
      }
    }
  }

  /** A new client for every request, closed right after it. */
  final class Naive implements BenchClient {
    private final Supplier<BenchClient> factory;

    Naive(Supplier<BenchClient> factory) {
      this.factory = factory;
    }

    @Override
    public int get(URI uri) throws Exception {
      try (BenchClient client = factory.get()) {
        return client.get(uri);
      }
    }

    @Override
    public void close() {}
  }
}
