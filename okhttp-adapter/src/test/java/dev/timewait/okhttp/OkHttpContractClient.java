package dev.timewait.okhttp;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.testing.ContractClient;
import dev.timewait.testing.TestTls;
import java.net.URI;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** An OkHttp client under the adapter contract. Thread-safe, as OkHttpClient is. */
final class OkHttpContractClient implements ContractClient {
  private final OkHttpClient client;
  private final CloseAccounting accounting;

  OkHttpContractClient(OkHttpClient client, CloseAccounting accounting) {
    this.client = client;
    this.accounting = accounting;
  }

  /** A builder trusting the test certificate, hostname verification on (OkHttp's default). */
  static OkHttpClient.Builder trustingBuilder() {
    return new OkHttpClient.Builder()
        .sslSocketFactory(TestTls.get().clientContext().getSocketFactory(), TestTls.get().trustManager());
  }

  OkHttpClient client() {
    return client;
  }

  @Override
  public int get(URI uri) throws Exception {
    Request request = new Request.Builder().url(uri.toString()).build();
    try (Response response = client.newCall(request).execute()) {
      response.body().bytes();
      return response.code();
    }
  }

  @Override
  public CloseStats stats() {
    return accounting == null ? CloseStats.EMPTY : accounting.snapshot();
  }

  @Override
  public void close() {
    TimeWaitOkHttp.shutdown(client);
  }
}
