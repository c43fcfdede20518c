package dev.timewait.httpclient5;

import dev.timewait.CloseStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.io.entity.EntityUtils;

/** A classic HttpClient under the adapter contract. */
final class ClassicContractClient implements TestClient {
  private final CloseableHttpClient client;
  private final Supplier<CloseStats> stats;
  private final AtomicBoolean closed = new AtomicBoolean();

  ClassicContractClient(CloseableHttpClient client, Supplier<CloseStats> stats) {
    this.client = client;
    this.stats = stats;
  }

  @Override
  public int get(URI uri) throws Exception {
    return client.execute(new HttpGet(uri), response -> {
      EntityUtils.consume(response.getEntity());
      return response.getCode();
    });
  }

  @Override
  public CloseStats stats() {
    return stats.get();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        client.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
