package dev.timewait.examples;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.httpclient5.HttpClient5Options;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import dev.timewait.okhttp.TimeWaitOkHttp;
import dev.timewait.reactornetty.TimeWaitReactorNetty;
import dev.timewait.testing.ContractClient;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.Okio;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * One HTTP client as the load engine drives it: a GET or POST that reads the whole response body,
 * the client's close accounting, and close. {@link #open(LoadSpec)} builds it for a client and
 * strategy: timewait's strategies through the adapters' agreed API, naive as a new default client
 * per request, raw as one client with its own pool and no timewait. Every kind gets the same
 * timeouts and the same retry switch ({@link LoadSpec#retries()}): off (the default) turns each
 * client's automatic retries off, so a failed request is counted, not hidden; on leaves the
 * client's own default retry settings (HttpClient 5: {@code DefaultHttpRequestRetryStrategy};
 * OkHttp: {@code retryOnConnectionFailure(true)}).
 *
 * <p>Thread-safe: {@link #send} is called from many threads at once.
 */
interface LoadClient extends ContractClient {
  /** Bounds each connect. */
  Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Bounds the wait for each response, between bytes. */
  Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);
  /** Bounds a whole request, where the client has such a bound. */
  Duration CALL_TIMEOUT = CONNECT_TIMEOUT.plus(RESPONSE_TIMEOUT);

  /** The media type of a POST's body. */
  String BODY_TYPE = "application/octet-stream";

  /**
   * Sends {@code GET uri} ({@code body} null) or {@code POST uri} with {@code body} (never
   * modified), reads the whole response body, and returns the status code.
   */
  int send(URI uri, byte[] body) throws Exception;

  /** Sends {@code GET uri}: {@link #send} without a body. */
  @Override
  default int get(URI uri) throws Exception {
    return send(uri, null);
  }

  /** How the client's connections opened and closed, or null where this client cannot count. */
  @Override
  CloseStats stats();

  /** Closes the client and its pool. Idempotent. */
  @Override
  void close() throws IOException;

  /** The client {@code spec} asks for. */
  static LoadClient open(LoadSpec spec) {
    CloseAccounting accounting = new CloseAccounting();
    LoadSpec.Tls tls = spec.tls();
    boolean retries = spec.retries();
    if (spec.kind() == StrategyKind.NAIVE) {
      return switch (spec.client()) {
        // HttpClient takes no socket factory without the adapter: its naive run is not counted.
        case HC5 -> new Naive(() -> new Hc5(plainHc5(tls, retries).build(), null), null);
        case HC5_ASYNC -> new Naive(() -> new Hc5Async(plainHc5Async(tls, retries).build(), null), null);
        case OKHTTP -> new Naive(
            () -> new OkHttp(okHttp(tls, retries).socketFactory(TimeWaitSocketFactory.observing(accounting)).build(),
                null),
            accounting);
        // A new client per request on no pool (newConnection()): Reactor Netty closes the
        // connection first, with a FIN, once the response is read. Not counted. Not a pool of
        // its own disposed after each request: reactor-pool's dispose races the event loop's
        // release of the connection and prints "unexpected decrement below 0" to stderr
        // (SimpleDequePool's idle counter; measured: in each of three 2,000-request runs).
        case REACTOR_NETTY -> new Naive(() -> ReactorNetty.unpooled(tls, retries), null);
      };
    }
    if (spec.kind() == StrategyKind.RAW) {
      // No timewait at all, not even an observing socket factory (timewait's sockets are what
      // answers OkHttp's health check), so raw runs are not counted.
      return switch (spec.client()) {
        case HC5 -> new Hc5(plainHc5(tls, retries).build(), null);
        case HC5_ASYNC -> new Hc5Async(plainHc5Async(tls, retries).build(), null);
        case OKHTTP -> new OkHttp(okHttp(tls, retries).build(), null);
        case REACTOR_NETTY -> ReactorNetty.raw(tls, retries);
      };
    }
    // timewait builds HttpClient's connection manager, where the connect timeout lives: given in
    // the options, or the timewait kinds connected with HttpClient's 3-minute default while the
    // plain ones had 10 s.
    HttpClient5Options.Builder options = HttpClient5Options.builder().connectionConfig(connectionConfig());
    if (tls != null) {
      options.sslContext(tls.context());
    }
    return switch (spec.client()) {
      case HC5 -> new Hc5(
          TimeWaitHttpClient5.configure(hc5(retries), spec.strategy(), accounting, options.build()).build(),
          accounting);
      case HC5_ASYNC -> new Hc5Async(
          TimeWaitHttpClient5.configure(hc5Async(retries), spec.strategy(), accounting, options.build()).build(),
          accounting);
      case OKHTTP -> new OkHttp(
          TimeWaitOkHttp.configure(okHttp(tls, retries), spec.strategy(), accounting).build(), accounting);
      case REACTOR_NETTY -> new ReactorNetty(TimeWaitReactorNetty.configure(
          ReactorNetty.settings(HttpClient.create(
              TimeWaitReactorNetty.connectionProvider("timewait-load", spec.strategy())), tls, retries),
          spec.strategy(), accounting), accounting, null);
    };
  }

  private static RequestConfig requestConfig() {
    return RequestConfig.custom()
        .setConnectionRequestTimeout(Timeout.of(CALL_TIMEOUT))
        .setResponseTimeout(Timeout.of(RESPONSE_TIMEOUT))
        .build();
  }

  private static ConnectionConfig connectionConfig() {
    return ConnectionConfig.custom()
        .setConnectTimeout(Timeout.of(CONNECT_TIMEOUT))
        .setSocketTimeout(Timeout.of(RESPONSE_TIMEOUT))
        .build();
  }

  /**
   * Retries off: {@code disableAutomaticRetries()}; on: the builder's default retry strategy.
   * Redirects are not followed, by any client (Reactor Netty follows none by default): a redirect
   * elsewhere sent the load to another host, whose TIME_WAIT no count saw; a 3xx is a response.
   */
  private static HttpClientBuilder hc5(boolean retries) {
    HttpClientBuilder builder = HttpClients.custom().setDefaultRequestConfig(requestConfig())
        .disableRedirectHandling();
    return retries ? builder : builder.disableAutomaticRetries();
  }

  private static HttpAsyncClientBuilder hc5Async(boolean retries) {
    HttpAsyncClientBuilder builder = HttpAsyncClients.custom().setDefaultRequestConfig(requestConfig())
        .disableRedirectHandling();
    return retries ? builder : builder.disableAutomaticRetries();
  }

  /**
   * HttpClient's defaults (its pooling connection manager, which re-validates a connection idle
   * for 2 s or more when no validateAfterInactivity is set), with timeouts, the retry switch and
   * the trust asked for.
   */
  private static HttpClientBuilder plainHc5(LoadSpec.Tls tls, boolean retries) {
    PoolingHttpClientConnectionManagerBuilder manager =
        PoolingHttpClientConnectionManagerBuilder.create().setDefaultConnectionConfig(connectionConfig());
    if (tls != null) {
      manager.setTlsSocketStrategy(new DefaultClientTlsStrategy(tls.context()));
    }
    return hc5(retries).setConnectionManager(manager.build());
  }

  private static HttpAsyncClientBuilder plainHc5Async(LoadSpec.Tls tls, boolean retries) {
    PoolingAsyncClientConnectionManagerBuilder manager =
        PoolingAsyncClientConnectionManagerBuilder.create().setDefaultConnectionConfig(connectionConfig());
    if (tls != null) {
      manager.setTlsStrategy(new DefaultClientTlsStrategy(tls.context()));
    }
    return hc5Async(retries).setConnectionManager(manager.build());
  }

  /** OkHttp's defaults (its own connection pool), with timeouts, the retry switch and the trust. */
  private static OkHttpClient.Builder okHttp(LoadSpec.Tls tls, boolean retries) {
    OkHttpClient.Builder builder = new OkHttpClient.Builder()
        .followRedirects(false) // as hc5's: the load stays on its target
        .followSslRedirects(false)
        .retryOnConnectionFailure(retries)
        .connectTimeout(CONNECT_TIMEOUT)
        .readTimeout(RESPONSE_TIMEOUT)
        .callTimeout(CALL_TIMEOUT);
    if (tls != null) {
      builder.sslSocketFactory(tls.context().getSocketFactory(), tls.trustManager());
    }
    return builder;
  }

  /** HttpClient 5 classic. */
  final class Hc5 implements LoadClient {
    private final CloseableHttpClient client;
    private final CloseAccounting accounting;

    Hc5(CloseableHttpClient client, CloseAccounting accounting) {
      this.client = client;
      this.accounting = accounting;
    }

    @Override
    public int send(URI uri, byte[] body) throws IOException {
      ClassicHttpRequest request;
      if (body == null) {
        request = new HttpGet(uri);
      } else {
        // A ByteArrayEntity is repeatable, so the client's own retry (when on) may resend it.
        request = new HttpPost(uri);
        request.setEntity(new ByteArrayEntity(body, ContentType.create(BODY_TYPE)));
      }
      return client.execute(request, response -> {
        EntityUtils.consume(response.getEntity());
        return response.getCode();
      });
    }

    @Override
    public CloseStats stats() {
      return accounting == null ? null : accounting.snapshot();
    }

    @Override
    public void close() throws IOException {
      client.close();
    }
  }

  /** HttpClient 5 async, waited on by the calling thread; the response is buffered whole. */
  final class Hc5Async implements LoadClient {
    private final CloseableHttpAsyncClient client;
    private final CloseAccounting accounting;

    Hc5Async(CloseableHttpAsyncClient client, CloseAccounting accounting) {
      this.client = client;
      this.accounting = accounting;
      client.start();
    }

    @Override
    public int send(URI uri, byte[] body) throws Exception {
      SimpleHttpRequest request = body == null
          ? SimpleRequestBuilder.get(uri).build()
          : SimpleRequestBuilder.post(uri).setBody(body, ContentType.create(BODY_TYPE)).build();
      Future<SimpleHttpResponse> future = client.execute(request, null);
      try {
        return future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getCode();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      } catch (TimeoutException e) {
        future.cancel(true);
        throw new TimeoutException("no response within " + CALL_TIMEOUT.toMillis() + " ms");
      }
    }

    @Override
    public CloseStats stats() {
      return accounting == null ? null : accounting.snapshot();
    }

    @Override
    public void close() throws IOException {
      client.close();
    }
  }

  /** OkHttp; close is {@link TimeWaitOkHttp#shutdown}, raw or configured. */
  final class OkHttp implements LoadClient {
    private final OkHttpClient client;
    private final CloseAccounting accounting;

    OkHttp(OkHttpClient client, CloseAccounting accounting) {
      this.client = client;
      this.accounting = accounting;
    }

    @Override
    public int send(URI uri, byte[] body) throws IOException {
      Request.Builder builder = new Request.Builder().url(uri.toString());
      if (body != null) {
        builder.post(RequestBody.create(body, MediaType.get(BODY_TYPE)));
      }
      Request request = builder.build();
      try (Response response = client.newCall(request).execute()) {
        response.body().source().readAll(Okio.blackhole());
        return response.code();
      }
    }

    @Override
    public CloseStats stats() {
      return accounting == null ? null : accounting.snapshot();
    }

    @Override
    public void close() {
      // Any client, configured or raw (evictAll and the dispatcher's shutdown; for a configured
      // one also the FIN waits still running, ended by an RST, and its closes told as SHUTDOWN).
      TimeWaitOkHttp.shutdown(client);
    }
  }

  /**
   * Reactor Netty; each call is blocked on by the calling thread (as a WebClient user's block()
   * would), the body aggregated. Configured: close is {@link TimeWaitReactorNetty#shutdown}; raw:
   * one client on a pool of its own, disposed on close; unpooled: no pool to dispose.
   */
  final class ReactorNetty implements LoadClient {
    private final HttpClient client;
    private final CloseAccounting accounting;
    private final ConnectionProvider rawProvider;

    ReactorNetty(HttpClient client, CloseAccounting accounting, ConnectionProvider rawProvider) {
      this.client = client;
      this.accounting = accounting;
      this.rawProvider = rawProvider;
    }

    /** No timewait: Reactor Netty's defaults (HTTP/1.1) with no pool, a connection per request. */
    static ReactorNetty unpooled(LoadSpec.Tls tls, boolean retries) {
      return unconfigured(ConnectionProvider.newConnection(), tls, retries);
    }

    /** No timewait: Reactor Netty's defaults (HTTP/1.1) on a pool of its own. */
    static ReactorNetty raw(LoadSpec.Tls tls, boolean retries) {
      return unconfigured(ConnectionProvider.create("raw"), tls, retries);
    }

    /** No timewait, on {@code provider}, which {@link #close} disposes. */
    private static ReactorNetty unconfigured(ConnectionProvider provider, LoadSpec.Tls tls, boolean retries) {
      return new ReactorNetty(settings(HttpClient.create(provider), tls, retries)
          .protocol(HttpProtocol.HTTP11), null, provider);
    }

    /** The timeouts every kind gets, TLS trusting {@code tls}, and the retry switch. */
    static HttpClient settings(HttpClient client, LoadSpec.Tls tls, boolean retries) {
      HttpClient configured = client
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
          .responseTimeout(RESPONSE_TIMEOUT)
          .disableRetry(!retries);
      if (tls == null) {
        return configured;
      }
      try {
        SslContext context = SslContextBuilder.forClient().trustManager(tls.trustManager()).build();
        return configured.secure(spec -> spec.sslContext(context));
      } catch (javax.net.ssl.SSLException e) {
        throw new IllegalStateException("cannot make the Netty TLS context: " + e, e);
      }
    }

    @Override
    public int send(URI uri, byte[] body) throws Exception {
      Integer status = (body == null
              ? client.get().uri(uri)
              // A Content-Length, as every other client of the CLI sends (and WebClient's
              // bodyValue): a body published as a Flux goes out chunked, which an HTTP/1.0
              // server does not read (lab scenario e: "Connection prematurely closed").
              : client.headers(h -> h.set(HttpHeaderNames.CONTENT_LENGTH, body.length))
                  .post().uri(uri).send(Mono.just(Unpooled.wrappedBuffer(body))))
          .responseSingle((response, content) -> content.then(Mono.just(response.status().code())))
          .block(CALL_TIMEOUT);
      if (status == null) {
        throw new IOException("no response");
      }
      return status;
    }

    @Override
    public CloseStats stats() {
      return accounting == null ? null : accounting.snapshot();
    }

    @Override
    public void close() {
      // newConnection()'s dispose does nothing (ConnectionProvider's default): each of its
      // connections closed itself after its response.
      if (rawProvider != null) {
        rawProvider.disposeLater().block(CALL_TIMEOUT);
      } else {
        TimeWaitReactorNetty.shutdown(client);
      }
    }
  }

  /**
   * What harnesses do wrong today: a new client for every request, closed right after it, so the
   * client closes each connection first and keeps its TIME_WAIT.
   */
  final class Naive implements LoadClient {
    /** Makes a fresh client. */
    interface Factory {
      LoadClient newClient();
    }

    private final Factory factory;
    private final CloseAccounting accounting;

    Naive(Factory factory, CloseAccounting accounting) {
      this.factory = Objects.requireNonNull(factory, "factory cannot be null");
      this.accounting = accounting;
    }

    @Override
    public int send(URI uri, byte[] body) throws Exception {
      try (LoadClient client = factory.newClient()) {
        return client.send(uri, body);
      }
    }

    @Override
    public CloseStats stats() {
      return accounting == null ? null : accounting.snapshot();
    }

    @Override
    public void close() {}
  }
}
