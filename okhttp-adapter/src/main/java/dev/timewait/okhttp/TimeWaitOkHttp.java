package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.Retirement;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.internal.Preconditions;
import dev.timewait.spi.SocketControl;
import java.net.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;
import kotlin.jvm.JvmClassMappingKt;
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
 * says and leave no TIME_WAIT on the client: the OkHttp counterpart of {@code
 * TimeWaitHttpClient5}, with the same {@code configure}/{@code newClient} shapes and misuse checks.
 * It plugs in through OkHttp's public extension points only (a {@link TimeWaitSocketFactory} as
 * the socket factory, a {@link ConnectionPool} of the configuration's own, interceptors, HTTP/1.1
 * unless {@link OkHttpOptions#allowHttp2()}) and hands back OkHttp's own types. What each strategy
 * does with OkHttp, and the limits (SOCKS proxies, HTTP/2, how {@code maxTotal} is bounded,
 * WebSockets), are in the module's README.
 *
 * <p>{@code configure} rejects, with an {@link IllegalArgumentException} naming the setting, a
 * builder that has a SOCKS proxy or a socket factory of its own, one configured already, and
 * {@code allowHttp2} under any strategy but pooled keep-alive with {@code RESET} retirement.
 * Configure a builder once, after setting its proxy, and set no other socket factory or connection
 * pool on it afterwards. Clients built from it, and their {@link OkHttpClient#newBuilder()}s,
 * share the configuration (socket factory, pool and slots).
 *
 * <p>Thread-safe: the static methods may be called from any thread (an {@link
 * OkHttpClient.Builder} itself is not thread-safe), and the configured client is as thread-safe as
 * any {@link OkHttpClient}.
 */
public final class TimeWaitOkHttp {
  private static final Logger log = LoggerFactory.getLogger(TimeWaitOkHttp.class);

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
    return configure(builder, strategy, accounting, OkHttpOptions.defaults());
  }

  /**
   * Configures {@code builder} for {@code strategy} with {@code options}, counting every
   * connection's close into {@code accounting}.
   *
   * @param builder the builder to configure; its other settings stay as they are
   * @param strategy how connections close
   * @param accounting counts every connection opened and how it closed
   * @param options the settings beyond the strategy
   * @return {@code builder}
   * @throws IllegalArgumentException if the builder has a SOCKS proxy, a socket factory of its
   *     own, or was configured by timewait already; if {@code options} allow HTTP/2 and {@code
   *     strategy} is not pooled keep-alive with {@code RESET} retirement
   */
  public static OkHttpClient.Builder configure(OkHttpClient.Builder builder, CloseStrategy strategy,
      CloseAccounting accounting, OkHttpOptions options) {
    Preconditions.checkNotNull(builder, "builder");
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
    Preconditions.checkNotNull(options, "options");
    boolean http2 = options.allowHttp2();
    if (http2 && !(strategy instanceof PooledKeepAlive && strategy.retirement() == Retirement.RESET)) {
      throw new IllegalArgumentException("allowHttp2 needs a pooled strategy with RESET retirement:"
          + " HTTP/2 has no Connection: close, so " + strategy.name()
          + " with " + strategy.retirement() + " retirement cannot run over it");
    }
    checkConfigurable(builder);

    TimeWaitSocketFactory factory = TimeWaitSocketFactory.create(strategy, accounting);
    builder.socketFactory(factory);
    if (strategy instanceof PooledKeepAlive) {
      PooledKeepAlive pooled = (PooledKeepAlive) strategy;
      builder.connectionPool(new ConnectionPool(
          pooled.maxTotal(), pooled.idleTimeout().toNanos(), TimeUnit.NANOSECONDS));
      // The slot bound stands first, the unanswered retry after the builder's own application
      // interceptors. With none between them (the usual case) one interceptor does both: OkHttp
      // copies its chain object (over 100 bytes) for every interceptor of every call (issue 19).
      boolean retry = pooled.retryUnanswered();
      boolean together = retry && builder.interceptors().isEmpty();
      builder.interceptors().add(0, new SlotInterceptor(
          pooled.maxTotal(), pooled.maxPerRoute(), options.slotWait(), together ? accounting : null));
      if (retry && !together) {
        builder.addInterceptor(new UnansweredRetryInterceptor(accounting));
      }
    } else {
      builder.connectionPool(new ConnectionPool(
          0, UNPOOLED_KEEP_ALIVE.toNanos(), TimeUnit.NANOSECONDS));
    }
    // HTTP/1.1 unless allowed: over HTTP/2 OkHttp strips the Connection header and closes from
    // the client, so server close cannot work, and a request cap cannot be exact.
    builder.protocols(http2 ? List.of(Protocol.HTTP_2, Protocol.HTTP_1_1) : List.of(Protocol.HTTP_1_1));
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
    Preconditions.checkNotNull(strategy, "strategy");
    Preconditions.checkNotNull(accounting, "accounting");
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
    Preconditions.checkNotNull(client, "client");
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
   * server's FIN stops waiting now and resets (a FIN-wait abort), and so does every later one
   * (synchronous calls still run on a client shut down). From then on a close without another
   * reason is told to close listeners as {@code CloseEvent.Reason.SHUTDOWN} (OkHttp has no close
   * of its own; an {@code evictAll()} called directly shows as idle eviction).
   * Clients made from this one with {@code newBuilder()} share its dispatcher, pool and socket
   * factory unless given their own (OkHttp's sharing): they are shut down with it. Idempotent;
   * works for any client.
   *
   * @param client the client to act on
   */
  public static void shutdown(OkHttpClient client) {
    Preconditions.checkNotNull(client, "client");
    if (client.socketFactory() instanceof TimeWaitSocketFactory) {
      // Before the pool closes anything: its closes are the shutdown's (CloseEvent.Reason).
      SocketControl.clientShuttingDown((TimeWaitSocketFactory) client.socketFactory());
    }
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
    if (client.socketFactory() instanceof TimeWaitSocketFactory) {
      ((TimeWaitSocketFactory) client.socketFactory()).abortFinWaits();
    }
  }

  /**
   * Fails fast on an OkHttp older than 5.4: the adapter keeps per-call state in {@code
   * Call.tag(KClass, Function0)} (OkHttp 5.3) and listens with {@code Call.addEventListener} (5.4),
   * and an older OkHttp (4.12 beside Retrofit or Feign, say) would otherwise fail with {@code
   * NoSuchMethodError} at the first call. Both are tried on a call that is never executed.
   */
  /** OkHttp's version passed {@link #requireSupportedOkHttp} once in this JVM. */
  private static volatile boolean supportedOkHttp;

  private static void requireSupportedOkHttp() {
    if (supportedOkHttp) {
      return;
    }
    try {
      // A bare client's call, not the user's: newCall asks the client's EventListener.Factory for
      // a listener, and a factory of the user's (metrics per call) would count a call that never
      // runs. Once per JVM: OkHttp's version does not change under it.
      Call probe = new OkHttpClient().newCall(new Request.Builder().url("http://localhost/").build());
      probe.tag(JvmClassMappingKt.getKotlinClass(String.class), () -> "timewait");
      probe.addEventListener(EventListener.NONE);
      supportedOkHttp = true;
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
    requireSupportedOkHttp();
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
