package dev.timewait.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * The client-cost measure runs two clients in one JVM; what one keeps idle must not make work for
 * the other (OkHttp's task runner is shared by every client in the JVM).
 */
class ClientCostIsolationTest {
  @Test
  void anOkHttpClientClosingItsIdleConnectionsLeavesItsPoolEmpty() throws Exception {
    ConnectionPool pool = new ConnectionPool(1, 5, TimeUnit.MINUTES);
    try (BenchServer server = new BenchServer();
        BenchClient client = new BenchClient.OkHttp(new OkHttpClient.Builder().connectionPool(pool).build(), false)) {
      assertThat(client.get(server.uri())).isEqualTo(200);
      assertThat(pool.idleConnectionCount()).isEqualTo(1);

      client.closeIdle();

      assertThat(pool.connectionCount()).isZero();
      assertThat(client.get(server.uri())).as("the client still works, on a new connection").isEqualTo(200);
    }
  }
}
