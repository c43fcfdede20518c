package consumer.kit;

import dev.timewait.CloseAccounting;
import dev.timewait.CloseStats;
import dev.timewait.CloseStrategy;
import dev.timewait.okhttp.TimeWaitOkHttp;
import dev.timewait.testing.AdapterContract;
import dev.timewait.testing.ContractClient;
import dev.timewait.testing.TestTls;
import java.net.URI;
import java.util.List;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;

/**
 * The kit's adapter contract, subclassed outside its package as its javadoc invites: what a
 * consumer implements (two factory methods and a {@link ContractClient}) is public, and the
 * contract runs on what the consumer's build resolved (WireMock, AssertJ, JUnit).
 */
class OkHttpContractInAConsumerTest extends AdapterContract {
  @Override
  protected ContractClient newClient(CloseStrategy strategy) {
    CloseAccounting accounting = new CloseAccounting();
    return new Client(TimeWaitOkHttp.configure(trusting(), strategy, accounting).build(), accounting);
  }

  @Override
  protected ContractClient newUnconfiguredClient() {
    return new Client(trusting().protocols(List.of(Protocol.HTTP_1_1)).build(), null);
  }

  private static OkHttpClient.Builder trusting() {
    return new OkHttpClient.Builder().sslSocketFactory(
        TestTls.get().clientContext().getSocketFactory(), TestTls.get().trustManager());
  }

  private static final class Client implements ContractClient {
    private final OkHttpClient client;
    private final CloseAccounting accounting;

    Client(OkHttpClient client, CloseAccounting accounting) {
      this.client = client;
      this.accounting = accounting;
    }

    @Override
    public int get(URI uri) throws Exception {
      try (Response response = client.newCall(new Request.Builder().url(uri.toString()).build()).execute()) {
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
}
