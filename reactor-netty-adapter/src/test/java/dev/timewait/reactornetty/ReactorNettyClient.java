package dev.timewait.reactornetty;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import dev.timewait.testing.TestTls;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * A Reactor Netty client under the kit's contracts: configured by {@link TimeWaitReactorNetty},
 * or (the control) Reactor Netty's defaults on a provider of its own. Blocking calls on the
 * caller's thread, as a WebClient user's {@code block()} would. Thread-safe, as HttpClient is.
 */
final class ReactorNettyClient implements FaultClient {
  private final HttpClient client;
  private final CloseAccounting accounting;
  private final ConnectionProvider controlProvider;

  private ReactorNettyClient(HttpClient client, CloseAccounting accounting,
      ConnectionProvider controlProvider) {
    this.client = client;
    this.accounting = accounting;
    this.controlProvider = controlProvider;
  }

  /** Configured for {@code strategy}, with {@code timeout} as connect and response timeout. */
  static ReactorNettyClient configured(CloseStrategy strategy, CloseAccounting accounting,
      Duration timeout, boolean retries) {
    HttpClient base = trusting(HttpClient.create(
        TimeWaitReactorNetty.connectionProvider("contract", strategy)))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .responseTimeout(timeout)
        .disableRetry(!retries);
    return new ReactorNettyClient(
        TimeWaitReactorNetty.configure(base, strategy, accounting), accounting, null);
  }

  /** Reactor Netty's defaults (HTTP/1.1), on a pool of its own that close() disposes. */
  static ReactorNettyClient control() {
    ConnectionProvider provider = ConnectionProvider.create("control");
    return new ReactorNettyClient(
        trusting(HttpClient.create(provider)).protocol(HttpProtocol.HTTP11), null, provider);
  }

  /** Trusts the test certificate; Reactor Netty verifies the host name by default. */
  static HttpClient trusting(HttpClient client) {
    return client.secure(spec -> spec.sslContext(sslContext()));
  }

  private static SslContext sslContext() {
    try {
      return SslContextBuilder.forClient().trustManager(TestTls.get().trustManager()).build();
    } catch (SSLException e) {
      throw new IllegalStateException(e);
    }
  }

  HttpClient client() {
    return client;
  }

  private Mono<Reply> call(String method, URI uri, Map<String, String> headers, byte[] body) {
    return client.request(HttpMethod.valueOf(method))
        .uri(uri)
        .send((request, out) -> {
          headers.forEach(request::header);
          if (body == null) {
            return out;
          }
          request.header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length));
          return out.sendByteArray(Mono.just(body));
        })
        .responseSingle((response, content) -> content.asByteArray()
            .defaultIfEmpty(new byte[0])
            .map(bytes -> {
              Map<String, String> names = new HashMap<>();
              response.responseHeaders().forEach(
                  e -> names.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
              return new Reply(response.status().code(), names, bytes);
            }));
  }

  @Override
  public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body)
      throws Exception {
    CompletableFuture<Reply> future = call(method, uri, headers, body).toFuture();
    try {
      return future.get();
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    } catch (InterruptedException e) {
      // As a caller that gives up cancels: the interrupt alone leaves the subscription running.
      future.cancel(true);
      throw e;
    }
  }

  /** The call's failure; Netty's timeouts (not IOExceptions) as the JDK's TimeoutException. */
  private static Exception unwrap(Throwable failure) {
    if (failure instanceof io.netty.handler.timeout.TimeoutException) {
      java.util.concurrent.TimeoutException timeout =
          new java.util.concurrent.TimeoutException(failure.toString());
      timeout.initCause(failure);
      return timeout;
    }
    return failure instanceof Exception ? (Exception) failure : new ExecutionException(failure);
  }

  @Override
  public InFlight start(URI uri) {
    CompletableFuture<Reply> result = new CompletableFuture<>();
    Disposable subscription =
        call("GET", uri, Map.of(), null).subscribe(result::complete, result::completeExceptionally);
    return new InFlight() {
      @Override
      public void cancel() {
        subscription.dispose();
        result.completeExceptionally(new CancellationException("cancelled"));
      }

      @Override
      public Reply await(Duration bound) throws Exception {
        try {
          return result.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          throw unwrap(e.getCause());
        }
      }
    };
  }

  @Override
  public CloseStats stats() {
    return accounting == null ? CloseStats.EMPTY : accounting.snapshot();
  }

  @Override
  public void close() {
    if (controlProvider != null) {
      controlProvider.disposeLater().block(Duration.ofSeconds(10));
    } else {
      TimeWaitReactorNetty.shutdown(client);
    }
  }
}
