package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static dev.timewait.CloseStrategy.Kind.RESET;
import static dev.timewait.CloseStrategy.Kind.SERVER_CLOSE;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.junit5.GuardTimeWait;
import dev.timewait.junit5.TimeWaitClient;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Copy-ready: Apache HttpClient 5's async client configured by timewait leaves no TIME_WAIT on
 * the client, whatever the strategy. {@code @TimeWaitClient} hands each test a configured,
 * started client and closes it after the test; {@code @GuardTimeWait} then fails the test if any
 * new client TIME_WAIT towards WireMock's port is in the kernel's table (Linux; skipped elsewhere).
 */
@WireMockTest
@GuardTimeWait(portSupplier = "wireMockPort")
class HttpAsyncClient5TimeWaitTest {
  static int wireMockPort(WireMockRuntimeInfo wm) {
    return wm.getHttpPort();
  }

  static CloseStrategy smallPool() {
    return PooledKeepAlive.builder().maxTotal(4).maxRequestsPerConnection(10).build();
  }

  @BeforeEach
  void stub() {
    stubFor(get("/hello").willReturn(ok("hello")));
  }

  @Test
  void serverCloseLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = SERVER_CLOSE) CloseableHttpAsyncClient client)
      throws Exception {
    sendRequests(client, wm);
  }

  @Test
  void resetCloseLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = RESET) CloseableHttpAsyncClient client) throws Exception {
    sendRequests(client, wm);
  }

  @Test
  void pooledKeepAliveLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategyMethod = "smallPool") CloseableHttpAsyncClient client)
      throws Exception {
    sendRequests(client, wm);
  }

  private static void sendRequests(CloseableHttpAsyncClient client, WireMockRuntimeInfo wm) throws Exception {
    for (int i = 0; i < 100; i++) {
      SimpleHttpResponse response = client
          .execute(SimpleRequestBuilder.get(wm.getHttpBaseUrl() + "/hello").build(), null)
          .get(10, TimeUnit.SECONDS);
      assertThat(response.getCode()).isEqualTo(200);
      assertThat(response.getBodyText()).isEqualTo("hello");
    }
  }
}
