package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.FaultClient;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/** OkHttp configured by {@link TimeWaitOkHttp} as a {@link FaultClient}. Thread-safe. */
final class OkHttpFaultClient implements FaultClient {
  private static final MediaType OCTETS = MediaType.get("application/octet-stream");

  private final OkHttpClient client;
  private final CloseAccounting accounting;

  OkHttpFaultClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout) {
    this(strategy, accounting, timeout, true);
  }

  /** With {@code retries} false, OkHttp's retryOnConnectionFailure is off. */
  OkHttpFaultClient(CloseStrategy strategy, CloseAccounting accounting, Duration timeout,
      boolean retries) {
    this.accounting = accounting;
    this.client = TimeWaitOkHttp.configure(OkHttpContractClient.trustingBuilder()
            .retryOnConnectionFailure(retries)
            .connectTimeout(timeout)
            .readTimeout(timeout)
            .writeTimeout(timeout), strategy, accounting)
        .build();
  }

  OkHttpClient client() {
    return client;
  }

  private Call call(String method, URI uri, Map<String, String> headers, byte[] body) {
    Request.Builder request = new Request.Builder().url(uri.toString())
        .method(method, body == null ? null : RequestBody.create(body, OCTETS));
    headers.forEach(request::header);
    return client.newCall(request.build());
  }

  private static Reply read(Response response) throws IOException {
    try (response) {
      Map<String, String> headers = new HashMap<>();
      response.headers().forEach(h -> headers.put(h.getFirst().toLowerCase(Locale.ROOT), h.getSecond()));
      return new Reply(response.code(), headers, response.body().bytes());
    }
  }

  @Override
  public Reply exchange(String method, URI uri, Map<String, String> headers, byte[] body)
      throws IOException {
    return read(call(method, uri, headers, body).execute());
  }

  @Override
  public InFlight start(URI uri) {
    Call call = call("GET", uri, Map.of(), null);
    CompletableFuture<Reply> result = new CompletableFuture<>();
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        result.completeExceptionally(e);
      }

      @Override
      public void onResponse(Call c, Response response) {
        try {
          result.complete(read(response));
        } catch (IOException e) {
          result.completeExceptionally(e);
        }
      }
    });
    return new InFlight() {
      @Override
      public void cancel() {
        call.cancel();
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
  public void close() {
    TimeWaitOkHttp.shutdown(client);
  }
}
