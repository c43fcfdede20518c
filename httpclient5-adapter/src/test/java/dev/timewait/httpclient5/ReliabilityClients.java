package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.FaultClient.Reply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/** HttpClient 5's classic and async clients as {@link FaultClient}s for the reliability contracts. */
final class ReliabilityClients {
  private static final long BOUND_SECONDS = 60;

  private ReliabilityClients() {}

  @SuppressWarnings("deprecation") // RequestConfig's connect timeout: the adapter owns the ConnectionConfig
  private static RequestConfig timeouts(Duration timeout) {
    return RequestConfig.custom()
        .setConnectTimeout(Timeout.of(timeout))
        .setResponseTimeout(Timeout.of(timeout))
        .build();
  }

  static FaultClient create(Flavor flavor, CloseStrategy strategy, CloseAccounting accounting,
      Duration timeout) {
    return create(flavor, strategy, accounting, timeout, true);
  }

  /** With {@code retries} false, HttpClient's automatic retries are off. */
  static FaultClient create(Flavor flavor, CloseStrategy strategy, CloseAccounting accounting,
      Duration timeout, boolean retries) {
    if (flavor == Flavor.CLASSIC) {
      var builder = TimeWaitHttpClient5.configure(HttpClients.custom(), strategy, accounting,
          Flavor.options()).setDefaultRequestConfig(timeouts(timeout));
      if (!retries) {
        builder.disableAutomaticRetries();
      }
      return new Classic(builder.build(), accounting);
    }
    var builder = TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), strategy, accounting,
        Flavor.options()).setDefaultRequestConfig(timeouts(timeout));
    if (!retries) {
      builder.disableAutomaticRetries();
    }
    return new Async(builder.build(), accounting);
  }

  private static Map<String, String> headers(HttpResponse response) {
    Map<String, String> headers = new HashMap<>();
    for (Header h : response.getHeaders()) {
      headers.put(h.getName().toLowerCase(Locale.ROOT), h.getValue());
    }
    return headers;
  }

  /** The classic client; {@link #start} runs the call on its own thread and cancels the request. */
  static final class Classic implements FaultClient {
    private final CloseableHttpClient client;
    private final CloseAccounting accounting;
    private final AtomicBoolean closed = new AtomicBoolean();

    Classic(CloseableHttpClient client, CloseAccounting accounting) {
      this.client = client;
      this.accounting = accounting;
    }

    @Override
    public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body)
        throws IOException {
      ClassicRequestBuilder request = ClassicRequestBuilder.create(method).setUri(uri);
      headers.forEach(request::addHeader);
      if (body != null) {
        request.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_OCTET_STREAM));
      }
      return client.execute(request.build(), ReliabilityClients::read);
    }

    @Override
    public InFlight start(URI uri) {
      HttpGet get = new HttpGet(uri);
      CompletableFuture<Reply> result = CompletableFuture.supplyAsync(() -> {
        try {
          return client.execute(get, ReliabilityClients::read);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, r -> {
        Thread t = new Thread(r, "classic-in-flight");
        t.setDaemon(true);
        t.start();
      });
      return new InFlight() {
        @Override
        public void cancel() {
          get.cancel();
        }

        @Override
        public Reply await(Duration bound) throws Exception {
          try {
            return result.get(bound.toMillis(), TimeUnit.MILLISECONDS);
          } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
          }
        }
      };
    }

    @Override
    public CloseStats stats() {
      return accounting.snapshot();
    }

    @Override
    public void close() throws IOException {
      if (closed.compareAndSet(false, true)) {
        client.close();
      }
    }
  }

  private static Reply read(ClassicHttpResponse response) throws IOException {
    byte[] body = response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity());
    return new Reply(response.getCode(), headers(response), body);
  }

  /** The async client; {@link #start} cancels the client's own Future. */
  static final class Async implements FaultClient {
    private final CloseableHttpAsyncClient client;
    private final CloseAccounting accounting;
    private final AtomicBoolean closed = new AtomicBoolean();

    Async(CloseableHttpAsyncClient client, CloseAccounting accounting) {
      this.client = client;
      this.accounting = accounting;
      client.start();
    }

    @Override
    public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body)
        throws Exception {
      Future<SimpleHttpResponse> future = send(method, uri, headers, body);
      try {
        SimpleHttpResponse response = future.get(BOUND_SECONDS, TimeUnit.SECONDS);
        byte[] bytes = response.getBodyBytes();
        return new Reply(response.getCode(), headers(response), bytes == null ? new byte[0] : bytes);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception ex ? ex : e;
      } catch (InterruptedException e) {
        // An interrupt reaches only this waiting thread, not the reactor that runs the exchange:
        // a caller that gives up cancels the call, as async clients' callers must.
        future.cancel(true);
        Thread.currentThread().interrupt();
        throw e;
      }
    }

    private Future<SimpleHttpResponse> send(String method, URI uri, Map<String, String> headers,
        byte[] body) {
      SimpleRequestBuilder request = SimpleRequestBuilder.create(method).setUri(uri);
      headers.forEach(request::addHeader);
      if (body != null) {
        request.setBody(body, ContentType.APPLICATION_OCTET_STREAM);
      }
      return client.execute(request.build(), null);
    }

    @Override
    public InFlight start(URI uri) {
      Future<SimpleHttpResponse> future = send("GET", uri, Map.of(), null);
      return new InFlight() {
        @Override
        public void cancel() {
          future.cancel(true);
        }

        @Override
        public Reply await(Duration bound) throws Exception {
          try {
            SimpleHttpResponse r = future.get(bound.toMillis(), TimeUnit.MILLISECONDS);
            return new Reply(r.getCode(), headers(r), r.getBodyBytes());
          } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
          }
        }
      };
    }

    @Override
    public CloseStats stats() {
      return accounting.snapshot();
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        client.close(CloseMode.GRACEFUL);
      }
    }
  }
}
