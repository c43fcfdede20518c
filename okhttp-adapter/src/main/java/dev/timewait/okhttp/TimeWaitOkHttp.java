package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.TimeWaitSocketFactory;
import java.net.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.EventListener;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Configures an OkHttp 5 client so that its connections close the way a {@link CloseStrategy}
 * says, and leave no TIME_WAIT on the client. It plugs in through OkHttp's public extension points
 * only and hands back OkHttp's own types:
 *
 * <ul>
 *   <li>a {@link TimeWaitSocketFactory} as the {@linkplain OkHttpClient.Builder#socketFactory
 *       socket factory} (TLS is layered over its sockets by OkHttp itself);
 *   <li>a {@link ConnectionPool} of this configuration's own: OkHttp's {@code Address.equals}
 *       ignores the socket factory, so a shared pool would hand this client connections made by
 *       another client's sockets;
 *   <li>a network interceptor that sets {@code Connection: close} on the requests that end a
 *       connection (every request for server close and reset, the capped or too-old request for
 *       pooled keep-alive) and, for server close, arms the connection once its response was read
 *       to the end;
 *   <li>for pooled keep-alive, an application interceptor that bounds the calls in flight (and so
 *       the connections in use) to {@link PooledKeepAlive#maxTotal()} and {@link
 *       PooledKeepAlive#maxPerRoute()};
 *   <li>{@linkplain OkHttpClient.Builder#protocols protocols}: HTTP/1.1 only, so that {@code
 *       Connection: close} reaches the server (see HTTP/2 below).
 * </ul>
 *
 * <p>What each strategy does with OkHttp:
 *
 * <ul>
 *   <li>{@link dev.timewait.ServerClose}: HTTP/1.1 only, every request carries {@code Connection:
 *       close}, no idle connections are kept. OkHttp closes the socket on the caller's thread as
 *       soon as the last body byte is read; the armed socket first waits, bounded by the FIN wait,
 *       for the server's FIN, so TIME_WAIT lands on the server. A response closed before it was
 *       read to the end, a cancel, a timeout or an I/O error resets the connection at once: no wait.
 *   <li>{@link dev.timewait.ResetClose}: HTTP/1.1 only, one connection per request: every request
 *       carries {@code Connection: close} (OkHttp itself then never reuses the connection, and the
 *       server does not wait for a next request) and the pool keeps no idle connection. OkHttp
 *       closes the socket once the response was read to the end (or closed), and the close sends
 *       an RST.
 *   <li>{@link PooledKeepAlive}: a pool keeping up to {@code maxTotal} idle connections for {@code
 *       idleTimeout}. A connection's {@code maxRequestsPerConnection}-th request, or its first
 *       request after {@code maxLifetime}, carries {@code Connection: close} and the connection
 *       retires once that exchange is complete: with {@link Retirement#SERVER_CLOSE} the client
 *       waits for the server's FIN (HTTP/1.1 only), with {@link Retirement#RESET} it resets. Idle
 *       eviction and {@link #shutdown(OkHttpClient)} reset.
 * </ul>
 *
 * <p><b>Limits.</b>
 *
 * <ul>
 *   <li><b>SOCKS proxies</b> bypass the socket factory (OkHttp makes {@code new Socket(proxy)}
 *       itself), so none of this applies to them. {@code configure} rejects a builder that has a
 *       SOCKS proxy, and a call routed through SOCKS by a {@code ProxySelector} fails with a
 *       {@link java.net.ProtocolException} that says so. HTTP proxies and CONNECT tunnels work.
 *   <li><b>HTTP/2</b>: every configuration uses HTTP/1.1 only. Over HTTP/2 OkHttp strips the
 *       {@code Connection} header and closes from the client, so server close cannot work; a
 *       request cap cannot be exact, because calls multiplexed on the connection before its
 *       capped request was answered finish on it too; and each retirement sends the waiting calls
 *       racing to open connections of which OkHttp keeps one and discards the rest (measured: 213
 *       and 225 connections opened for 500 requests at a cap of 10 and 8 calls in flight, against
 *       50 over HTTP/1.1). Pooled keep-alive with {@link Retirement#RESET} may be switched back to
 *       HTTP/2 after {@code configure}, with {@code builder.protocols(List.of(Protocol.HTTP_2,
 *       Protocol.HTTP_1_1))}: it then still leaves no TIME_WAIT on the client, with the cap
 *       approximate. With {@link Retirement#SERVER_CLOSE} retirement such connections are reset
 *       instead of waiting for a FIN that the server was never asked to send.
 *   <li><b>maxTotal</b>: OkHttp's pool bounds idle connections only, and its {@link Dispatcher}
 *       bounds only {@code enqueue()}d calls. This adapter bounds the <em>calls in flight</em>
 *       through the client, synchronous and asynchronous, to {@code maxTotal} ({@code maxPerRoute}
 *       per scheme, host and port): a call waits for a slot before it takes a connection, and
 *       frees it when OkHttp released the connection. So at most {@code maxTotal} connections are
 *       in use, and with one route (the usual case: one load balancer) at most {@code maxTotal}
 *       are open. With several routes, idle connections of one route can sit next to busy ones of
 *       others: then up to {@code maxTotal} busy plus {@code maxTotal} idle. A call waits for a
 *       slot at most its connect timeout ({@link #DEFAULT_SLOT_WAIT} if that is 0) and never past
 *       a cancel or its call timeout, then fails with an {@link java.io.InterruptedIOException}.
 *       Close every response, as OkHttp requires: a leaked response holds its slot until the
 *       garbage collector finds its call.
 *   <li>WebSockets skip network interceptors: their connections are simply reset when closed.
 * </ul>
 *
 * <pre>{@code
 * CloseAccounting accounting = new CloseAccounting();
 * OkHttpClient client = TimeWaitOkHttp.configure(
 *         new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(10)),
 *         CloseStrategy.serverClose(), accounting)
 *     .build();
 * try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
 *   String body = response.body().string();
 * }
 * TimeWaitOkHttp.shutdown(client);
 * CloseStats stats = accounting.snapshot();
 * }</pre>
 *
 * <p>Configure a builder once, after setting its proxy, and do not set another socket factory or
 * connection pool on it afterwards. A client built from it, and clients made with its {@link
 * OkHttpClient#newBuilder()}, share this configuration (socket factory, pool and slots).
 *
 * <p>Thread-safe: the static methods may be called from any thread (an {@link
 * OkHttpClient.Builder} itself is not thread-safe), and the configured client is as thread-safe as
 * any {@link OkHttpClient}.
 */
public final class TimeWaitOkHttp {
  private static final Logger log = LoggerFactory.getLogger(TimeWaitOkHttp.class);

  /**
   * How long a pooled keep-alive call waits for a free slot when the client's connect timeout is
   * 0 (none): 10 seconds, OkHttp's default connect timeout.
   */
  public static final Duration DEFAULT_SLOT_WAIT = Duration.ofSeconds(10);

  /**
   * The keep-alive given to the pool of server close and reset, which keep no idle connection: 30
   * seconds ({@link PooledKeepAlive#DEFAULT_IDLE_TIMEOUT}). It only paces the pool's cleanup.
   */
  static final Duration UNPOOLED_KEEP_ALIVE = PooledKeepAlive.DEFAULT_IDLE_TIMEOUT;

  private TimeWaitOkHttp() {}

  /**
   * Configures {@code builder} for {@code strategy}, with an accounting of its own (read it with
   * {@link #accounting(OkHttpClient)}).
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @return {@code builder}
   * @throws IllegalArgumentException if the builder has a SOCKS proxy, a socket factory of its
   *     own, or was configured by timewait already
   */
  public static OkHttpClient.Builder configure(OkHttpClient.Builder builder, CloseStrategy strategy) {
    return configure(builder, strategy, new CloseAccounting());
  }

  /**
   * Configures {@code builder} for {@code strategy}, counting every connection's close into
   * {@code accounting}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return {@code builder}
   * @throws IllegalArgumentException if the builder has a SOCKS proxy, a socket factory of its
   *     own, or was configured by timewait already
   */
  public static OkHttpClient.Builder configure(
      OkHttpClient.Builder builder, CloseStrategy strategy, CloseAccounting accounting) {
    Objects.requireNonNull(builder, "builder cannot be null");
    Objects.requireNonNull(strategy, "strategy cannot be null");
    Objects.requireNonNull(accounting, "accounting cannot be null");
    checkConfigurable(builder);

    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(strategy, accounting);
    builder.socketFactory(factory);
    if (strategy instanceof PooledKeepAlive) {
      PooledKeepAlive pooled = (PooledKeepAlive) strategy;
      builder.connectionPool(new ConnectionPool(
          pooled.maxTotal(), pooled.idleTimeout().toNanos(), TimeUnit.NANOSECONDS));
      builder.interceptors().add(0, new SlotInterceptor(pooled.maxTotal(), pooled.maxPerRoute()));
    } else {
      builder.connectionPool(new ConnectionPool(
          0, UNPOOLED_KEEP_ALIVE.toNanos(), TimeUnit.NANOSECONDS));
    }
    // HTTP/1.1 for every strategy; see the class javadoc for why, and for HTTP/2 with pooled RESET.
    builder.protocols(List.of(Protocol.HTTP_1_1));
    if (strategy instanceof PooledKeepAlive && ((PooledKeepAlive) strategy).retryUnanswered()) {
      builder.addInterceptor(new UnansweredRetryInterceptor(accounting));
    }
    builder.addNetworkInterceptor(new CloseInterceptor(strategy, factory));
    log.debug("configured OkHttp for {}", strategy);
    return builder;
  }

  /**
   * A new client configured for {@code strategy}, with OkHttp's other defaults. For pooled
   * keep-alive its {@link Dispatcher} also queues asynchronous calls beyond {@code maxTotal}
   * ({@code maxPerRoute} per host) instead of letting them wait for a slot on a thread.
   *
   * @param strategy how connections close
   * @return a new client configured for {@code strategy}, with OkHttp's other defaults
   */
  public static OkHttpClient newClient(CloseStrategy strategy) {
    return newClient(strategy, new CloseAccounting());
  }

  /**
   * Like {@link #newClient(CloseStrategy)}, counting into {@code accounting}.
   *
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @return a new client
   */
  public static OkHttpClient newClient(CloseStrategy strategy, CloseAccounting accounting) {
    Objects.requireNonNull(strategy, "strategy cannot be null");
    Objects.requireNonNull(accounting, "accounting cannot be null");
    OkHttpClient.Builder builder = new OkHttpClient.Builder();
    if (strategy instanceof PooledKeepAlive) {
      PooledKeepAlive pooled = (PooledKeepAlive) strategy;
      Dispatcher dispatcher = new Dispatcher();
      dispatcher.setMaxRequests(pooled.maxTotal());
      dispatcher.setMaxRequestsPerHost(pooled.maxPerRoute());
      builder.dispatcher(dispatcher);
    }
    return configure(builder, strategy, accounting).build();
  }

  /**
   * The close accounting of a client configured by timewait: how its connections opened and
   * closed.
   *
   * @param client the client to act on
   * @return the close accounting of a client configured by timewait
   * @throws IllegalArgumentException if {@code client} was not configured by timewait
   */
  public static CloseAccounting accounting(OkHttpClient client) {
    return socketFactory(client).accounting();
  }

  /**
   * The socket factory of a client configured by timewait, for {@link
   * TimeWaitSocketFactory#openConnections()} and the like.
   *
   * @param client the client to act on
   * @return the socket factory of a client configured by timewait, for {@link TimeWaitSocketFactory#openConnections()} and the like
   * @throws IllegalArgumentException if {@code client} was not configured by timewait
   */
  public static TimeWaitSocketFactory socketFactory(OkHttpClient client) {
    Objects.requireNonNull(client, "client cannot be null");
    SocketFactory factory = client.socketFactory();
    if (!(factory instanceof TimeWaitSocketFactory)) {
      throw new IllegalArgumentException(
          "client must be configured by TimeWaitOkHttp, but its socketFactory was " + factory);
    }
    return (TimeWaitSocketFactory) factory;
  }

  /**
   * Shuts {@code client} down the way OkHttp documents: no new asynchronous calls, and every idle
   * connection closed now (with this configuration's close: never TIME_WAIT on the client).
   * Calls still running finish; their connections close when they have been idle for the pool's
   * keep-alive. Under server close, a call whose exchange is over but that still waits for the
   * server's FIN stops waiting now and resets (a FIN-wait abort). Idempotent; works for any
   * client.
   *
   * @param client the client to act on
   */
  public static void shutdown(OkHttpClient client) {
    Objects.requireNonNull(client, "client cannot be null");
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
    if (client.socketFactory() instanceof TimeWaitSocketFactory) {
      ((TimeWaitSocketFactory) client.socketFactory()).abortFinWaits();
    }
  }

  /**
   * Fails fast on an OkHttp older than 5.4: the adapter keeps per-call state in {@code
   * Call.tag(Class, Function0)} (OkHttp 5.3) and listens with {@code Call.addEventListener} (5.4),
   * and an older OkHttp (4.12 beside Retrofit or Feign, say) would otherwise fail with {@code
   * NoSuchMethodError} at the first call. Both are tried on a call that is never executed.
   */
  private static void requireSupportedOkHttp(OkHttpClient client) {
    try {
      Call probe = client.newCall(new Request.Builder().url("http://localhost/").build());
      probe.tag(String.class, () -> "timewait");
      probe.addEventListener(EventListener.NONE);
    } catch (LinkageError older) {
      throw new IllegalStateException("timewait-okhttp needs OkHttp 5.4 or later"
          + " (com.squareup.okhttp3:okhttp-jvm), but an older OkHttp is on the class path ("
          + older + "); with Retrofit or Feign, manage okhttp to 5.4+ in your build", older);
    }
  }

  private static void checkConfigurable(OkHttpClient.Builder builder) {
    for (Interceptor interceptor : builder.networkInterceptors()) {
      if (interceptor instanceof CloseInterceptor) {
        throw new IllegalArgumentException(
            "builder must not be configured by TimeWaitOkHttp yet, but it was (by "
                + interceptor + "); configure a builder once");
      }
    }
    // Building is the public way to read the builder's proxy and socket factory.
    OkHttpClient current = builder.build();
    requireSupportedOkHttp(current);
    Proxy proxy = current.proxy();
    if (proxy != null && proxy.type() == Proxy.Type.SOCKS) {
      throw new IllegalArgumentException(
          "proxy must not be a SOCKS proxy, but was " + proxy
              + ": OkHttp opens SOCKS connections without the socket factory, so timewait cannot"
              + " close them");
    }
    SocketFactory socketFactory = current.socketFactory();
    if (socketFactory != SocketFactory.getDefault()) {
      throw new IllegalArgumentException(
          "socketFactory must be OkHttp's default, but was " + socketFactory
              + ": timewait sets its own socket factory");
    }
  }
}
