package dev.timewait.httpclient5;

import dev.timewait.CloseStats;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.core5.io.CloseMode;

/** An async HttpClient under the adapter contract; {@link #get} waits for the response. */
final class AsyncContractClient implements TestClient {
  private static final long RESPONSE_BOUND_SECONDS = 30;

  private final CloseableHttpAsyncClient client;
  private final Supplier<CloseStats> stats;
  private final AtomicBoolean closed = new AtomicBoolean();

  AsyncContractClient(CloseableHttpAsyncClient client, Supplier<CloseStats> stats) {
    this.client = client;
    this.stats = stats;
    client.start();
  }

  @Override
  public int get(URI uri) throws Exception {
    SimpleHttpResponse response = client.execute(SimpleRequestBuilder.get(uri).build(), null)
        .get(RESPONSE_BOUND_SECONDS, TimeUnit.SECONDS);
    return response.getCode();
  }

  @Override
  public CloseStats stats() {
    return stats.get();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      client.close(CloseMode.GRACEFUL);
    }
  }
}
