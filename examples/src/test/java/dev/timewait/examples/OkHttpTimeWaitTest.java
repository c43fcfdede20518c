package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.okhttp.TimeWaitOkHttp;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Copy-ready: OkHttp configured by timewait leaves no TIME_WAIT on the client, whatever the
 * strategy. Each test gets its own WireMock port, so the kernel's count is that test's alone.
 */
class OkHttpTimeWaitTest {
  @RegisterExtension
  WireMockExtension server = WireMockExtension.newInstance()
      .options(wireMockConfig().bindAddress("127.0.0.1").dynamicPort())
      .build();

  @BeforeEach
  void setUp() {
    KernelTimeWait.assumeLinux();
    server.stubFor(get("/hello").willReturn(ok("hello")));
  }

  @Test
  void serverCloseLeavesNoTimeWaitOnTheClient() throws Exception {
    sendRequestsWith(CloseStrategy.serverClose());
    assertThat(KernelTimeWait.clientTimeWait(server.getPort())).isZero();
  }

  @Test
  void resetCloseLeavesNoTimeWaitOnTheClient() throws Exception {
    sendRequestsWith(CloseStrategy.reset());
    assertThat(KernelTimeWait.clientTimeWait(server.getPort())).isZero();
  }

  @Test
  void pooledKeepAliveLeavesNoTimeWaitOnTheClient() throws Exception {
    sendRequestsWith(PooledKeepAlive.builder().maxTotal(4).maxRequestsPerConnection(10).build());
    assertThat(KernelTimeWait.clientTimeWait(server.getPort())).isZero();
  }

  private void sendRequestsWith(CloseStrategy strategy) throws Exception {
    OkHttpClient client = TimeWaitOkHttp.newClient(strategy);
    Request request = new Request.Builder().url("http://127.0.0.1:" + server.getPort() + "/hello").build();
    for (int i = 0; i < 100; i++) {
      try (Response response = client.newCall(request).execute()) {
        assertThat(response.code()).isEqualTo(200);
        assertThat(response.body().string()).isEqualTo("hello");
      }
    }
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll(); // closes the pooled connections: the strategy decides how
  }
}
