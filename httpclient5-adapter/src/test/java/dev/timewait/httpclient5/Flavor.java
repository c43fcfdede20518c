package dev.timewait.httpclient5;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStrategy;
import dev.timewait.testing.TestTls;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.HttpClients;

/** HttpClient 5's two clients, configured by the adapter, trusting {@link TestTls}. */
enum Flavor {
  CLASSIC {
    @Override
    TestClient client(CloseStrategy strategy, CloseAccounting accounting) {
      return new ClassicContractClient(
          TimeWaitHttpClient5.configure(HttpClients.custom(), strategy, accounting, options()).build(),
          accounting::snapshot);
    }
  },
  ASYNC {
    @Override
    TestClient client(CloseStrategy strategy, CloseAccounting accounting) {
      return new AsyncContractClient(
          TimeWaitHttpClient5.configure(HttpAsyncClients.custom(), strategy, accounting, options()).build(),
          accounting::snapshot);
    }
  };

  abstract TestClient client(CloseStrategy strategy, CloseAccounting accounting);

  static HttpClient5Options options() {
    return HttpClient5Options.builder().sslContext(TestTls.get().clientContext()).build();
  }
}
