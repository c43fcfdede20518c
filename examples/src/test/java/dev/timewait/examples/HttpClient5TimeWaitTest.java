package dev.timewait.examples;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.timewait.CloseStrategy;
import dev.timewait.PooledKeepAlive;
import dev.timewait.httpclient5.TimeWaitHttpClient5;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Copy-ready: Apache HttpClient 5 (classic) configured by timewait leaves no TIME_WAIT on the
 * client, whatever the strategy. Each test gets its own WireMock port, so the kernel's count is
 * that test's alone.
 */
class HttpClient5TimeWaitTest {
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
    try (CloseableHttpClient client = TimeWaitHttpClient5.newClient(strategy)) {
      for (int i = 0; i < 100; i++) {
        String body = client.execute(new HttpGet("http://127.0.0.1:" + server.getPort() + "/hello"), response -> {
          assertThat(response.getCode()).isEqualTo(200);
          return EntityUtils.toString(response.getEntity());
        });
        assertThat(body).isEqualTo("hello");
      }
    } // closing the client closes its pool: the strategy decides how
  }
}
