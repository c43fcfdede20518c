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
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Copy-ready: OkHttp configured by timewait leaves no TIME_WAIT on the client, whatever the
 * strategy. {@code @TimeWaitClient} hands each test a configured client and shuts it down after
 * the test; {@code @GuardTimeWait} then fails the test if any new client TIME_WAIT towards
 * WireMock's port is in the kernel's table (Linux; skipped elsewhere).
 */
@WireMockTest
@GuardTimeWait(portSupplier = "wireMockPort")
class OkHttpTimeWaitTest {
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
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = SERVER_CLOSE) OkHttpClient client) throws IOException {
    sendRequests(client, wm);
  }

  @Test
  void resetCloseLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategy = RESET) OkHttpClient client) throws IOException {
    sendRequests(client, wm);
  }

  @Test
  void pooledKeepAliveLeavesNoTimeWaitOnTheClient(
      WireMockRuntimeInfo wm, @TimeWaitClient(strategyMethod = "smallPool") OkHttpClient client) throws IOException {
    sendRequests(client, wm);
  }

  private static void sendRequests(OkHttpClient client, WireMockRuntimeInfo wm) throws IOException {
    Request request = new Request.Builder().url(wm.getHttpBaseUrl() + "/hello").build();
    for (int i = 0; i < 100; i++) {
      try (Response response = client.newCall(request).execute()) {
        assertThat(response.code()).isEqualTo(200);
        assertThat(response.body().string()).isEqualTo("hello");
      }
    }
  }
}
