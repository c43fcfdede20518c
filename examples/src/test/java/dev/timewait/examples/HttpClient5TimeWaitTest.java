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
import java.io.IOException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Copy-ready: Apache HttpClient 5 (classic) configured by timewait leaves no TIME_WAIT on the
 * client, whatever the strategy. {@code @TimeWaitClient} hands each test a configured client and
 * closes it after the test; {@code @GuardTimeWait} then fails the test if any new client
 * TIME_WAIT towards WireMock's port is in the kernel's table (Linux; skipped elsewhere).
 */
@WireMockTest
@GuardTimeWait(portSupplier = "wireMockPort")
class HttpClient5TimeWaitTest {
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
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = SERVER_CLOSE) CloseableHttpClient client) throws IOException {
    sendRequests(client, wm);
  }

  @Test
  void resetCloseLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = RESET) CloseableHttpClient client) throws IOException {
    sendRequests(client, wm);
  }

  @Test
  void pooledKeepAliveLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategyMethod = "smallPool") CloseableHttpClient client)
      throws IOException {
    sendRequests(client, wm);
  }

  private static void sendRequests(CloseableHttpClient client, WireMockRuntimeInfo wm) throws IOException {
    for (int i = 0; i < 100; i++) {
      String body = client.execute(new HttpGet(wm.getHttpBaseUrl() + "/hello"), response -> {
        assertThat(response.getCode()).isEqualTo(200);
        return EntityUtils.toString(response.getEntity());
      });
      assertThat(body).isEqualTo("hello");
    }
  }
}
