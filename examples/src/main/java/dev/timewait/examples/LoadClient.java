package dev.timewait.examples;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.TimeWaitSocketFactory;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import dev.timewait.okhttp.TimeWaitOkHttp;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Okio;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
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
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;

/**
 * One HTTP client as the load engine drives it: a GET that reads the whole body, the client's
 * close accounting, and close. {@link #open(LoadSpec)} builds it for a client and strategy:
 * timewait's strategies through the adapters' agreed API, naive as a new default client per
 * request. Automatic retries are off in every client, so a failed request is counted, not hidden.
 *
 * <p>Thread-safe: {@link #get} is called from many threads at once.
 */
interface LoadClient extends AutoCloseable {
  /** Bounds each connect. */
  Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Bounds the wait for each response, between bytes. */
  Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);
  /** Bounds a whole request, where the client has such a bound. */
  Duration CALL_TIMEOUT = CONNECT_TIMEOUT.plus(RESPONSE_TIMEOUT);

  /** Sends {@code GET uri}, reads the whole body, and returns the status code. */
  int get(URI uri) throws Exception;

  /** How the client's connections opened and closed, or null where this client cannot count. */
  CloseStats stats();

  /** Closes the client and its pool. Idempotent. */
  @Override
  void close() throws IOException;

  /** The client {@code spec} asks for. */
  static LoadClient open(LoadSpec spec) {
    CloseAccounting accounting = new CloseAccounting();
    LoadSpec.Tls tls = spec.tls();
    if (spec.kind() == StrategyKind.NAIVE) {
      return switch (spec.client()) {
        // HttpClient takes no socket factory without the adapter: its naive run is not counted.
        case HC5 -> new Naive(() -> new Hc5(naiveHc5(tls).build(), null), null);
        case HC5_ASYNC -> new Naive(() -> new Hc5Async(naiveHc5Async(tls).build(), null), null);
        case OKHTTP -> new Naive(
            () -> new OkHttp(okHttp(tls).socketFactory(TimeWaitSocketFactory.observing(accounting)).build(), null),
            accounting);
      };
    }
    return switch (spec.client()) {
      case HC5 -> new Hc5(
          (tls == null
                  ? TimeWaitHttpClient5.configure(hc5(), spec.strategy(), accounting)
                  : TimeWaitHttpClient5.configure(hc5(), spec.strategy(), accounting, tls.context()))
              .build(),
          accounting);
      case HC5_ASYNC -> new Hc5Async(
          (tls == null
                  ? TimeWaitHttpClient5.configure(hc5Async(), spec.strategy(), accounting)
                  : TimeWaitHttpClient5.configure(hc5Async(), spec.strategy(), accounting, tls.context()))
              .build(),
          accounting);
      case OKHTTP -> new OkHttp(TimeWaitOkHttp.configure(okHttp(tls), spec.strategy(), accounting).build(), accounting);
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

  private static HttpClientBuilder hc5() {
    return HttpClients.custom().disableAutomaticRetries().setDefaultRequestConfig(requestConfig());
  }

  private static HttpAsyncClientBuilder hc5Async() {
    return HttpAsyncClients.custom().disableAutomaticRetries().setDefaultRequestConfig(requestConfig());
  }

  /** HttpClient's defaults, with retries off, timeouts, and the trust asked for. */
  private static HttpClientBuilder naiveHc5(LoadSpec.Tls tls) {
    PoolingHttpClientConnectionManagerBuilder manager =
        PoolingHttpClientConnectionManagerBuilder.create().setDefaultConnectionConfig(connectionConfig());
    if (tls != null) {
      manager.setTlsSocketStrategy(new DefaultClientTlsStrategy(tls.context()));
    }
    return hc5().setConnectionManager(manager.build());
  }

  private static HttpAsyncClientBuilder naiveHc5Async(LoadSpec.Tls tls) {
    PoolingAsyncClientConnectionManagerBuilder manager =
        PoolingAsyncClientConnectionManagerBuilder.create().setDefaultConnectionConfig(connectionConfig());
    if (tls != null) {
      manager.setTlsStrategy(new DefaultClientTlsStrategy(tls.context()));
    }
    return hc5Async().setConnectionManager(manager.build());
  }

  private static OkHttpClient.Builder okHttp(LoadSpec.Tls tls) {
    OkHttpClient.Builder builder = new OkHttpClient.Builder()
        .retryOnConnectionFailure(false)
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
    public int get(URI uri) throws IOException {
      return client.execute(new HttpGet(uri), response -> {
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
    public int get(URI uri) throws Exception {
      Future<SimpleHttpResponse> future = client.execute(SimpleRequestBuilder.get(uri).build(), null);
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

  /** OkHttp; close shuts its dispatcher and closes its pooled connections. */
  final class OkHttp implements LoadClient {
    private final OkHttpClient client;
    private final CloseAccounting accounting;

    OkHttp(OkHttpClient client, CloseAccounting accounting) {
      this.client = client;
      this.accounting = accounting;
    }

    @Override
    public int get(URI uri) throws IOException {
      Request request = new Request.Builder().url(uri.toString()).build();
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
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
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
    public int get(URI uri) throws Exception {
      try (LoadClient client = factory.newClient()) {
        return client.get(uri);
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
